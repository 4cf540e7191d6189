// The one shape every protocol front end has (SPDY, HTTP/2, HTTP/1.1, uwsgi): the listener layer
// accepts a connection, takes its ConnectionInfo once, and hands both over; nothing above the
// listener branches on which front end it is talking to.

import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionInfo } from '../exchange/connection-info.ts';

export interface FrontEnd {
  /** Serves an accepted (for TLS: handshaken) connection. */
  accept(socket: Socket, connection: ConnectionInfo): void;
  /**
   * Stops taking new work: GOAWAY on SPDY and h2, no more keep-alive on HTTP/1.1, 503 on uwsgi.
   * Each connection closes once what it is serving has finished.
   */
  close(): void;
  /** Closes the connections that serve nothing right now (no open stream, no request in flight). */
  closeIdle(): void;
  /** The HTTP/1.1 front end's node:http server, whose knobs (timeouts, header limits) are http.Server's. */
  readonly http1Server?: HttpServer;
  /**
   * A drain's grace is over: closes the connections apps took over (upgrades), WebSockets with a
   * close frame 1001 (going-away.ts). True if some are closing on their own: the drain gives
   * them GOING_AWAY_FLUSH_MS before it destroys what is left.
   */
  goAway?(): boolean;
}
