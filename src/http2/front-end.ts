// The HTTP/2 front end: node:http2 runs the protocol; we hand it sockets (TLS ones that ALPN
// settled on h2, plain ones that opened with the h2c preface) with emit('connection'), and each
// stream goes to the app as an Http2Exchange.

import { constants, createServer, type Http2Server, type Http2Session, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import type { App } from '../apps/app.ts';
import type { StreamTuning } from '../config/config.ts';
import type { ConnectionInfo } from '../exchange/connection-info.ts';
import type { FrontEnd } from '../listen/front-end.ts';
import { checkAuthority, checkTarget } from '../exchange/request-validation.ts';
import type { PushPlanner } from '../push/push-planner.ts';
import { tracer } from '../log.ts';
import { Http2Exchange, type Http2SessionState } from './http2-exchange.ts';

const trace = tracer('h2');
const ignore = (): void => {};

/**
 * Where accept() leaves a connection's facts for the session node:http2 makes of the socket
 * (`session.socket` is a proxy that reads through to the socket's own properties).
 */
const kConnection = Symbol('spry.connection');
type AcceptedSocket = Socket & { [kConnection]?: ConnectionInfo };

/**
 * --http-timeout: a session with no traffic for that long gets GOAWAY and is closed. node:http2
 * leaves a destroyed session's timer armed (unref'd) until it would have fired, and the timer
 * holds the session, its socket and the whole server for that long; so every way to its end
 * (all go through destroy()) disarms it first, while setTimeout still may.
 */
function setIdleTimeout(session: Http2Session, idleTimeoutMs: number): void {
  session.setTimeout(idleTimeoutMs, closeIdleSession);
  destroySession ??= session.destroy; // node:http2's own, shared by every server session
  session.destroy = destroyDisarmed;
}

function closeIdleSession(this: Http2Session): void {
  this.close();
}

let destroySession: Http2Session['destroy'] | undefined;

function destroyDisarmed(this: Http2Session, ...args: Parameters<Http2Session['destroy']>): void {
  this.setTimeout(0);
  destroySession!.apply(this, args);
}

export function createHttp2FrontEnd(
  app: App,
  options: { idleTimeoutMs: number; tuning: StreamTuning; pushPlanner?: PushPlanner },
): FrontEnd {
  const sessions = new Map<Http2Session, Http2SessionState>();
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
    const connection = (session.socket as AcceptedSocket)[kConnection]!;
    sessions.set(session, { connection, buffers, pushPlanner: options.pushPlanner, pushedPaths: new Set(), openPushes: 0, openStreams: 0 });
    session.once('close', () => sessions.delete(session));
    session.on('error', () => {}); // the session closes; its streams report their own end
    if (options.idleTimeoutMs > 0) setIdleTimeout(session, options.idleTimeoutMs);
    if (closing) session.close();
  });
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders?: string[]) => {
    // nghttp2 has refused bad names, methods and authority characters, and dropped regular
    // fields with bad values; what it lets through but spry does not serve is refused here,
    // before the app sees it (docs/request-heads.md §2): a :path that is not origin-form or
    // holds bytes above 0x7e, `*` but for OPTIONS, CONNECT (no :path), a port that is not digits.
    const problem = checkTarget(headers[':method'] ?? '', headers[':path'] ?? '') ?? checkAuthority(headers[':authority'] ?? headers.host ?? '');
    if (problem !== undefined) {
      trace?.(`stream ${stream.id} ${problem.code}: ${problem.message}`);
      stream.on('error', ignore); // node:http2 reports the reset it sends as the stream's error
      stream.close(constants.NGHTTP2_PROTOCOL_ERROR);
      return;
    }
    app.serve(new Http2Exchange(stream, headers, rawHeaders, sessions.get(stream.session!)!));
  });
  return {
    accept(socket, connection) {
      (socket as AcceptedSocket)[kConnection] = connection;
      // Even while closing: the 'session' handler sends GOAWAY, which tells the client its
      // in-flight request was not processed and may be retried; destroying the socket loses it.
      server.emit('connection', socket);
    },
    close() {
      closing = true;
      for (const session of sessions.keys()) session.close();
    },
    closeIdle() {
      for (const [session, state] of sessions) if (state.openStreams === 0) session.close();
    },
  };
}
