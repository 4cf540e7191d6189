// The HTTP/2 front end: node:http2 runs the protocol; we hand it sockets (TLS ones that ALPN
// settled on h2, plain ones that opened with the h2c preface) with emit('connection'), and each
// stream goes to the app as an Http2Exchange.

import { createServer, type Http2Server, type Http2Session, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import type { App } from '../apps/app.ts';
import type { ConnectionInfo } from '../exchange/exchange.ts';
import { connectionInfo } from '../http1/request-head.ts';
import { Http2Exchange } from './http2-exchange.ts';

export interface Http2FrontEnd {
  accept(socket: Socket): void;
  /** GOAWAY to every session; each closes when its last stream ends. */
  close(): void;
}

export function createHttp2FrontEnd(app: App, options: { secure: boolean; idleTimeoutMs: number; maxConcurrentStreams: number }): Http2FrontEnd {
  const sessions = new Set<Http2Session>();
  let closing = false;
  const server: Http2Server = createServer({
    settings: { maxConcurrentStreams: options.maxConcurrentStreams },
    // Streams are served from the 'stream' event: no compatibility-layer objects per request.
  });
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    session.on('error', () => {}); // the session closes; its streams report their own end
    // --http-timeout: a connection with no traffic for that long gets GOAWAY and is closed.
    if (options.idleTimeoutMs > 0) session.setTimeout(options.idleTimeoutMs, () => session.close());
    if (closing) session.close();
  });
  const connections = new WeakMap<Http2Session, ConnectionInfo>();
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders?: string[]) => {
    const session = stream.session!;
    let connection = connections.get(session);
    if (connection === undefined) {
      connection = connectionInfo(session.socket as Socket, options.secure);
      connections.set(session, connection);
    }
    app.serve(new Http2Exchange(stream, headers, rawHeaders, connection));
  });
  return {
    accept(socket) {
      // Even while closing: the 'session' handler sends GOAWAY, which tells the client its
      // in-flight request was not processed and may be retried; destroying the socket loses it.
      server.emit('connection', socket);
    },
    close() {
      closing = true;
      for (const session of sessions) session.close();
    },
  };
}
