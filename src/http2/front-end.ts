// The HTTP/2 front end: node:http2 runs the protocol; we hand it sockets (TLS ones that ALPN
// settled on h2, plain ones that opened with the h2c preface) with emit('connection'), and each
// stream goes to the app as an Http2Exchange.

import { constants as http2Constants, createServer, type Http2Server, type Http2Session, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import type { App } from '../apps/app.ts';
import type { StreamTuning } from '../config/config.ts';
import type { ConnectionInfo } from '../exchange/connection-info.ts';
import type { RequestHead } from '../exchange/exchange.ts';
import { http2SessionDestroy } from '../internals/node-internals.ts';
import type { FrontEnd } from '../listen/front-end.ts';
import { checkAuthority, checkTarget } from '../exchange/request-validation.ts';
import type { PushPlanner } from '../push/push-planner.ts';
import { tracer } from '../log.ts';
import { Http2Exchange, requestHead, type Http2SessionState } from './http2-exchange.ts';
import { Http2StallWatch } from './stall-watch.ts';
import { Http2Tunnel } from './tunnel.ts';
import { goAwayAll } from '../exchange/going-away.ts';
import { countProtocolError, countRefusal, countReset } from '../observe/counters.ts';

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
  session.destroy = destroyDisarmed;
}

/**
 * An extended CONNECT (RFC 8441 §4: :method CONNECT with :protocol, :scheme, :path and
 * :authority) goes to the app's upgrade listeners as an HTTP/1.1-style upgrade over the stream.
 * Without a listener it is 501; a malformed one is a stream error.
 */
function serveExtendedConnect(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[] | undefined, state: Http2SessionState, app: App): void {
  const protocol = String(headers[':protocol']);
  const problem = headers[':method'] !== 'CONNECT' || headers[':scheme'] === undefined
    ? { code: 'SPRY_ERR_BAD_TARGET', message: 'an extended CONNECT needs :method CONNECT and :scheme' }
    : checkTarget('GET', headers[':path'] ?? '') ?? checkAuthority(headers[':authority'] ?? '');
  const asSent = requestHead(stream, headers, rawHeaders, state.connection);
  if (problem !== undefined) return resetRefused(stream, asSent, problem.code, problem.message);
  if (app.upgrade === undefined || !app.upgrade.accepts()) {
    const body = `no upgrade to ${protocol} here\n`;
    stream.respond({ ':status': 501, 'content-type': TEXT_PLAIN });
    stream.end(body);
    // Not the client's fault: a line and a 5xx, no protocol error.
    countRefusal(asSent, undefined, 501, ['content-type', TEXT_PLAIN], Buffer.byteLength(body));
    return;
  }
  const head = { ...asSent, method: 'GET' };
  const tunnel = new Http2Tunnel(stream, state.connection, protocol);
  state.tunnels.add(tunnel);
  tunnel.once('close', () => state.tunnels.delete(tunnel));
  app.upgrade.serveTunnel(head, protocol, tunnel);
}

const TEXT_PLAIN = 'text/plain; charset=utf-8';

/** A stream refused before any app saw it: RST_STREAM PROTOCOL_ERROR, counted and logged under `code`. */
function resetRefused(stream: ServerHttp2Stream, head: RequestHead, code: string, message: string): void {
  trace?.(`stream ${stream.id} ${code}: ${message}`);
  countReset(head, code, 'PROTOCOL_ERROR');
  stream.close(http2Constants.NGHTTP2_PROTOCOL_ERROR);
}

function closeIdleSession(this: Http2Session): void {
  this.close();
}

function destroyDisarmed(this: Http2Session, ...args: Parameters<Http2Session['destroy']>): void {
  this.setTimeout(0);
  http2SessionDestroy.apply(this, args);
}

export function createHttp2FrontEnd(
  app: App,
  options: { idleTimeoutMs: number; tuning: StreamTuning; pushPlanner?: PushPlanner },
): FrontEnd {
  const sessions = new Map<Http2Session, Http2SessionState>();
  let closing = false;
  const { tuning } = options;
  const buffers = { writeBytes: tuning.writeBufferBytes, readBytes: tuning.readBufferBytes };
  // A stream holding response bytes that the client's window, or its not reading, keeps back
  // for --http-timeout is reset with CANCEL (stall-watch.ts).
  const stalls = options.idleTimeoutMs > 0 ? new Http2StallWatch(options.idleTimeoutMs) : undefined;
  const server: Http2Server = createServer({
    // The SETTINGS sent on connect reflect the same knobs as SPDY's.
    settings: {
      maxConcurrentStreams: tuning.maxConcurrentStreams,
      initialWindowSize: tuning.initialWindowBytes,
      maxHeaderListSize: tuning.maxHeaderBlockBytes,
      // RFC 8441: WebSockets over h2 streams, for apps with upgrade listeners.
      enableConnectProtocol: true,
    },
    maxHeaderListPairs: tuning.maxHeaderCount,
    // Abuse that costs the client nothing, with SPDY's budgets (abuse-budget.ts). nghttp2 closes a
    // session that lets more than 1000 PING/SETTINGS acknowledgements and RST_STREAMs pile up
    // unread on its own (SPDY's max-owed-control copies that), and rate-limits RST_STREAMs from
    // the client with a token bucket: a burst of max-peer-resets, refilled at the rate that
    // spends it in one abuse window (rapid reset, CVE-2023-44487: GOAWAY past it). Node counts
    // invalid frames and rejected streams per session, not per window.
    streamResetBurst: tuning.maxPeerResets,
    streamResetRate: Math.max(1, Math.round((tuning.maxPeerResets * 1000) / tuning.abuseWindowMs)),
    maxSessionInvalidFrames: tuning.maxInvalidFrames,
    maxSessionRejectedStreams: tuning.maxStreamErrors,
    // Streams are served from the 'stream' event: no compatibility-layer objects per request.
  });
  server.on('session', (session: Http2Session) => {
    const connection = (session.socket as AcceptedSocket)[kConnection]!;
    sessions.set(session, { connection, buffers, stalls, pushPlanner: options.pushPlanner, pushedPaths: new Set(), openPushes: 0, openStreams: 0, tunnels: new Set() });
    session.once('close', () => sessions.delete(session));
    // The session closes; its streams report their own end.
    session.on('error', (error: NodeJS.ErrnoException) => countProtocolError(connection.secure ? 'h2' : 'h2c', error.code ?? 'ERR_HTTP2_SESSION_ERROR'));
    if (options.idleTimeoutMs > 0) setIdleTimeout(session, options.idleTimeoutMs);
    if (closing) session.close();
  });
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders?: string[]) => {
    // nghttp2 has refused bad names, methods and authority characters, and dropped regular
    // fields with bad values; what it lets through but spry does not serve is refused here,
    // before the app sees it (docs/request-heads.md §2): a :path that is not origin-form or
    // holds bytes above 0x7e, `*` but for OPTIONS, CONNECT (no :path), a port that is not digits.
    // 'close' follows a stream's error and reports it; node:http2 also reports as an error the
    // reset it sends, and a stream may be reset before it is served (below).
    stream.on('error', ignore);
    if (headers[':protocol'] !== undefined) return serveExtendedConnect(stream, headers, rawHeaders, sessions.get(stream.session!)!, app);
    const problem = checkTarget(headers[':method'] ?? '', headers[':path'] ?? '') ?? checkAuthority(headers[':authority'] ?? headers.host ?? '');
    if (problem !== undefined) return resetRefused(stream, requestHead(stream, headers, rawHeaders, sessions.get(stream.session!)!.connection), problem.code, problem.message);
    if (opened.push({ stream, headers, rawHeaders }) === 1) setImmediate(serveOpened);
  });
  /**
   * Streams opened by the reads being processed reach the app once they are done, so that a
   * stream the same read resets (rapid reset) never costs the app, the access log or a framed
   * response anything (as SPDY's session does). node:http2 runs each frame's callbacks, and the
   * ticks after them, before it takes the next frame of a read: only an immediate comes after.
   */
  let opened: { stream: ServerHttp2Stream; headers: IncomingHttpHeaders; rawHeaders: string[] | undefined }[] = [];
  const serveOpened = (): void => {
    const batch = opened;
    opened = [];
    for (const { stream, headers, rawHeaders } of batch) {
      const state = stream.session === undefined ? undefined : sessions.get(stream.session);
      if (stream.closed || stream.destroyed || state === undefined) continue;
      app.serve(new Http2Exchange(stream, headers, rawHeaders, state));
    }
  };
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
    goAway: () => [...sessions.values()].map((state) => goAwayAll(state.tunnels)).includes(true),
  };
}
