// The HTTP/1.1 front end: node:http parses and serialises; we hand it sockets (TLS ones from
// the ALPN dispatcher, plain ones from --http listeners) with emit('connection').

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { App } from '../apps/app.ts';
import type { StreamTuning } from '../config/config.ts';
import type { ConnectionInfo } from '../exchange/connection-info.ts';
import { badRequestBody, type RequestHeadProblem } from '../exchange/request-validation.ts';
import { assignedResponse, setHighWaterMarks } from '../internals/node-internals.ts';
import type { FrontEnd } from '../listen/front-end.ts';
import { goAwayAll, isWebSocket, watchForSwitch } from '../exchange/going-away.ts';
import { IdleSockets } from '../exchange/idle-sockets.ts';
import { NodeHttpExchange } from '../exchange/node-http-exchange.ts';
import { nodeRequestProblem, requestHeadFromNode } from './request-head.ts';
import { countProtocolError } from '../observe/counters.ts';

/** What the front end keeps on each socket it serves: the connection's facts, from accept(). */
const kConnection = Symbol('spry.connection');
type ServedSocket = Socket & { [kConnection]?: ConnectionInfo };

export function createHttp1FrontEnd(app: App, options: { idleTimeoutMs: number; tuning: StreamTuning }): FrontEnd {
  const buffers = { writeBytes: options.tuning.writeBufferBytes, readBytes: options.tuning.readBufferBytes };
  // node:http tracks connections only for servers it listens with itself, so a graceful close
  // needs these. A socket is busy while node:http has a response assigned to it
  // (`socket._httpMessage`, set from the 'request' event until the response finishes): nothing
  // is counted per request.
  const sockets = new Set<ServedSocket>();
  let closing = false;

  // Node 24 adds keepAliveTimeoutBuffer (1 s) to keepAliveTimeout; --http-timeout is the whole idle time.
  const upgraded = new IdleSockets(options.idleTimeoutMs);
  /** Sockets apps took over, closed when a drain's grace ends (going-away.ts). */
  const takenOver = new Set<ServedSocket>();
  const server: Server = createServer({
    keepAliveTimeout: options.idleTimeoutMs,
    keepAliveTimeoutBuffer: 0,
    requestTimeout: 0,
    // An upgrade goes to the app's 'upgrade' listeners if it has any, as node:http does, but
    // never h2c: spry does not switch to h2 mid-connection (h2c clients use prior knowledge).
    shouldUpgradeCallback: (req) => app.upgrade !== undefined && app.upgrade.accepts() && !/^\s*h2c\s*$/i.test(req.headers.upgrade ?? ''),
  }, onRequest);
  // node:http answers Expect: 100-continue itself unless this listener exists; with it, a body
  // the edge will refuse (a Content-Length over --limit-post) gets its 413 without a 100 first,
  // so the client never starts sending it (RFC 9110 §10.1.1).
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (!declaresOverLimit(req, options.tuning.limitPostBytes)) res.writeContinue();
    onRequest(req, res);
  });
  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket as ServedSocket;
    const problem = nodeRequestProblem(req);
    if (problem !== undefined) return refuse(res, problem);
    // After close(): this response says Connection: close, and node:http closes after it.
    if (closing) res.shouldKeepAlive = false;
    const head = requestHeadFromNode(req, socket[kConnection]!);
    if (app.serveNode !== undefined) app.serveNode(req, res, head);
    else app.serve(new NodeHttpExchange(req, res, head, buffers));
  }
  // --http-timeout: a connection with no traffic for that long is closed, as on SPDY, unless a
  // request on it still waits for its response (the app or a backend's timeout answers it).
  server.timeout = options.idleTimeoutMs;
  server.on('timeout', (socket: ServedSocket) => {
    if (assignedResponse(socket) === null) socket.destroy();
  });
  server.headersTimeout = Math.min(options.idleTimeoutMs, 60_000);
  server.on('upgrade', (req, socket: ServedSocket, head: Buffer) => {
    const problem = nodeRequestProblem(req);
    if (problem !== undefined) return socket.end(badRequestResponse(problem));
    // No longer an HTTP/1.1 connection: close() and closeIdle() leave it to the app; a drain's
    // grace period ends it, and --http-timeout does if it goes quiet.
    sockets.delete(socket);
    upgraded.add(socket);
    takenOver.add(socket);
    socket.once('close', () => takenOver.delete(socket));
    if (isWebSocket(req.headers.upgrade)) watchForSwitch(socket);
    // shouldUpgradeCallback lets only upgrades the app takes through; should one come anyway
    // (its listener went since), the client is told so rather than left hanging.
    if (app.upgrade === undefined || !app.upgrade.accepts()) return socket.end('HTTP/1.1 426 Upgrade Required\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    app.upgrade.serve(req, socket, head, requestHeadFromNode(req, socket[kConnection]!));
  });
  // spry does not tunnel (docs/request-heads.md §3). Without this listener node:http would
  // close the connection without a word.
  server.on('connect', (req, socket: Socket) => {
    socket.end(badRequestResponse({ code: 'SPRY_ERR_BAD_TARGET', message: `CONNECT ${JSON.stringify(req.url)}: spry does not tunnel` }));
  });
  return {
    http1Server: server,
    accept(socket, connection) {
      (socket as ServedSocket)[kConnection] = connection;
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      // node:http sizes each request's IncomingMessage from the socket's read mark, and a
      // ServerResponse's write() reports the socket's fullness: write-buffer and read-buffer.
      setHighWaterMarks(socket, buffers);
      // Even while closing: HTTP/1.1 cannot refuse a request it has not read, so the one the
      // client already sent is served, with Connection: close.
      server.emit('connection', socket);
    },
    // close(): no more keep-alive reuse; idle connections close now, busy ones after their response.
    close() {
      closing = true;
      for (const socket of sockets) {
        const response = assignedResponse(socket);
        if (!response) socket.end();
        else if (!response.headersSent) response.shouldKeepAlive = false; // node:http closes after it
        else response.once('finish', () => socket.end()); // its head already promised keep-alive
      }
    },
    closeIdle() {
      for (const socket of sockets) if (assignedResponse(socket) === null) socket.end();
    },
    goAway: () => goAwayAll(takenOver),
  };
}

/** The edge's test (edge-app.ts): a declared length over the limit is refused unread. */
function declaresOverLimit(req: IncomingMessage, limitPostBytes: number): boolean {
  const declared = req.headers['content-length'];
  return limitPostBytes > 0 && declared !== undefined && Number(declared) > limitPostBytes;
}

/** A whole 400 response, for a socket node:http no longer writes responses on (CONNECT, upgrades). */
function badRequestResponse(problem: RequestHeadProblem): string {
  countProtocolError('http/1.1', problem.code);
  const body = badRequestBody(problem);
  return `HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

/** A 400 naming the problem; the connection closes after it (what follows cannot be trusted). */
function refuse(res: ServerResponse, problem: RequestHeadProblem): void {
  countProtocolError('http/1.1', problem.code);
  const body = badRequestBody(problem);
  res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}
