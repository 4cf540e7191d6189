// The server createServer returns: a node:tls (or, plain, a node:net) server whose connections
// spry serves, with what http.Server adds that users and their tools rely on. listen(),
// address(), `listening` and the 'listening', 'connection', 'error' and 'close' events are
// node:net's own; close() is graceful on every protocol; 'request' fires for Node-style apps.

import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { ConnectionHandler } from '../listen/connection-handler.ts';

export interface SpryServer extends NetServer {
  /** The protocols offered, in order of preference. */
  readonly protocols: readonly string[];
  /**
   * Stops listening and closes gracefully: GOAWAY on SPDY and h2, no more keep-alive on
   * HTTP/1.1; requests in flight finish. `callback` runs once every connection has closed.
   */
  close(callback?: (error?: Error) => void): this;
  /** Destroys every connection now. */
  closeAllConnections(): void;
  /** Closes the connections serving nothing right now: idle keep-alive ones, sessions with no open stream. */
  closeIdleConnections(): void;
  /**
   * http.Server's knobs, which spry's HTTP/1.1 connections (over TLS and plain) obey as
   * node:http's do: they read and set the node:http server behind the HTTP/1.1 front end. SPDY
   * and h2 keep their own limits (the tuning options, httpTimeout).
   */
  timeout: number;
  keepAliveTimeout: number;
  keepAliveTimeoutBuffer: number;
  headersTimeout: number;
  requestTimeout: number;
  maxHeadersCount: number | null;
  maxRequestsPerSocket: number | null;
  /** http.Server's: an HTTP/1.1 connection quiet this long times out (`callback` gets the socket). */
  setTimeout(msecs?: number, callback?: (socket: Socket) => void): this;
  setTimeout(callback: (socket: Socket) => void): this;
  on(event: 'request', listener: (req: IncomingMessage, res: ServerResponse) => void): this;
  on(event: 'close' | 'listening', listener: () => void): this;
  on(event: 'connection', listener: (socket: import('node:net').Socket) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

type Constructor<T> = abstract new (...args: any[]) => T;

/** What served() adds, named so the emitted .d.ts names it too rather than inlining node's types. */
interface ServedMembers extends Pick<SpryServer, 'protocols' | 'closeAllConnections' | 'closeIdleConnections' | Http1Knob> {
  handler: ConnectionHandler | undefined;
  setTimeout(msecs?: number | ((socket: Socket) => void), callback?: (socket: Socket) => void): this;
}

type Http1Knob = 'timeout' | 'keepAliveTimeout' | 'keepAliveTimeoutBuffer' | 'headersTimeout' | 'requestTimeout' | 'maxHeadersCount' | 'maxRequestsPerSocket';

/** Each knob with node:http's default, read before the server has an HTTP/1.1 front end. */
const HTTP1_KNOBS: readonly (readonly [Http1Knob, number | null])[] = [
  ['timeout', 0], ['keepAliveTimeout', 5000], ['keepAliveTimeoutBuffer', 0], ['headersTimeout', 60_000],
  ['requestTimeout', 0], ['maxHeadersCount', null], ['maxRequestsPerSocket', null],
];

/** What both kinds of server add to node's: the handler that serves their connections. */
function served<B extends Constructor<NetServer>>(Base: B): B & Constructor<ServedMembers> {
  abstract class Served extends Base {
    handler: ConnectionHandler | undefined;

    get protocols(): readonly string[] {
      return this.handler?.protocols ?? [];
    }

    override close(callback?: (error?: Error) => void): this {
      super.close(callback);
      void this.handler?.drain();
      return this;
    }

    closeAllConnections(): void {
      this.handler?.closeAll();
    }

    closeIdleConnections(): void {
      this.handler?.closeIdle();
    }

    declare timeout: number;
    declare keepAliveTimeout: number;
    declare keepAliveTimeoutBuffer: number;
    declare headersTimeout: number;
    declare requestTimeout: number;
    declare maxHeadersCount: number | null;
    declare maxRequestsPerSocket: number | null;

    setTimeout(msecs?: number | ((socket: Socket) => void), callback?: (socket: Socket) => void): this {
      const [ms, listener] = typeof msecs === 'function' ? [undefined, msecs] : [msecs, callback];
      for (const server of this.handler?.http1Servers ?? []) server.setTimeout(ms ?? server.timeout, listener);
      return this;
    }
  }
  // http.Server's knobs read the first HTTP/1.1 front end's node:http server (node's defaults
  // before there is one) and set every one of them.
  for (const [name, fallback] of HTTP1_KNOBS) {
    Object.defineProperty(Served.prototype, name, {
      configurable: true,
      get(this: Served) {
        const server = this.handler?.http1Servers[0];
        return server === undefined ? fallback : server[name];
      },
      set(this: Served, value: never) {
        for (const server of this.handler?.http1Servers ?? []) server[name] = value;
      },
    });
  }
  return Served;
}

export class SpryTlsServer extends served(TlsServer) {}
export class SpryPlainServer extends served(NetServer) {}
