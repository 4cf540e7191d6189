// The HTTP/2 front end: node:http2 runs the protocol; we hand it sockets (TLS ones that ALPN
// settled on h2, plain ones that opened with the h2c preface) with emit('connection'), and each
// stream goes to the app as an Http2Exchange.

import { createServer, type Http2Server, type Http2Session, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import type { App } from '../apps/app.ts';
import type { StreamTuning } from '../config/config.ts';
import { connectionInfo } from '../http1/request-head.ts';
import type { PushPlanner } from '../push/push-planner.ts';
import { Http2Exchange, type Http2SessionState } from './http2-exchange.ts';

export interface Http2FrontEnd {
  accept(socket: Socket): void;
  /** GOAWAY to every session; each closes when its last stream ends. */
  close(): void;
}

export function createHttp2FrontEnd(
  app: App,
  options: { secure: boolean; idleTimeoutMs: number; tuning: StreamTuning; pushPlanner?: PushPlanner },
): Http2FrontEnd {
  const sessions = new Set<Http2Session>();
  let closing = false;
  const { tuning } = options;
  const buffers = { writeBytes: tuning.writeBufferBytes, readBytes: tuning.readBufferBytes };
  const server: Http2Server = createServer({
    // The SETTINGS sent on connect reflect the same knobs as SPDY's.
    settings: {
      maxConcurrentStreams: tuning.maxConcurrentStreams,
      initialWindowSize: tuning.initialWindowBytes,
      maxHeaderListSize: tuning.maxHeaderBlockBytes,
    },
    maxHeaderListPairs: tuning.maxHeaderCount,
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
  const states = new WeakMap<Http2Session, Http2SessionState>();
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders?: string[]) => {
    const session = stream.session!;
    let state = states.get(session);
    if (state === undefined) {
      state = {
        connection: connectionInfo(session.socket as Socket, options.secure),
        buffers,
        pushPlanner: options.pushPlanner,
        pushedPaths: new Set(),
        openPushes: 0,
      };
      states.set(session, state);
    }
    app.serve(new Http2Exchange(stream, headers, rawHeaders, state));
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
