// The HTTP/1.1 front end: node:http parses and serialises; we hand it sockets (TLS ones from
// the ALPN dispatcher, plain ones from --http listeners) with emit('connection').

import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { App } from '../apps/app.ts';
import type { StreamTuning } from '../config/config.ts';
import type { ConnectionInfo } from '../exchange/connection-info.ts';
import type { RequestHead } from '../exchange/exchange.ts';
import { badRequestBody, type RequestHeadProblem } from '../exchange/request-validation.ts';
import { assignedResponse, setHighWaterMarks, type OutgoingPrivates } from '../internals/node-internals.ts';
import type { FrontEnd } from '../listen/front-end.ts';
import { goAwayAll, isWebSocket, watchForSwitch } from '../exchange/going-away.ts';
import { IdleSockets } from '../exchange/idle-sockets.ts';
import { NodeHttpExchange } from '../exchange/node-http-exchange.ts';
import { servePipelined } from './pipelining.ts';
import { nodeRequestProblem, refusedRequestHead, requestHeadFromNode } from './request-head.ts';
import { countRefusal } from '../observe/counters.ts';

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
    if (problem !== undefined) return refuse(res, problem, requestHeadFromNode(req, socket[kConnection]!));
    if (assignedResponse(socket) === res) serve(req, res, socket);
    else servePipelined(socket, res, options.tuning.maxConcurrentStreams, () => serve(req, res, socket));
  }
  function serve(req: IncomingMessage, res: ServerResponse, socket: ServedSocket): void {
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
    // The connection's facts are on the socket node:http read from (req.socket): Node 26 hands an
    // upgrade whose request has a body over as a stream around it.
    const connection = (req.socket as ServedSocket)[kConnection]!;
    const problem = nodeRequestProblem(req);
    if (problem !== undefined) return socket.end(badRequestResponse(problem, requestHeadFromNode(req, connection)));
    // No longer an HTTP/1.1 connection: close() and closeIdle() leave it to the app; a drain's
    // grace period ends it, and --http-timeout does if it goes quiet.
    sockets.delete(socket);
    upgraded.add(socket);
    takenOver.add(socket);
    socket.once('close', () => takenOver.delete(socket));
    if (isWebSocket(req.headers.upgrade)) watchForSwitch(socket);
    // shouldUpgradeCallback lets only upgrades the app takes through; should one come anyway
    // (its listener went since), the client is told so rather than left hanging.
    const requestHead = requestHeadFromNode(req, connection);
    if (app.upgrade === undefined || !app.upgrade.accepts()) {
      socket.end(UPGRADE_REQUIRED);
      // Not the client's fault: a line and a 4xx, no protocol error.
      return countRefusal(requestHead, undefined, 426, UPGRADE_REQUIRED.length, 0);
    }
    app.upgrade.serve(req, socket, head, requestHead);
  });
  // spry does not tunnel (docs/request-heads.md §3). Without this listener node:http would
  // close the connection without a word.
  server.on('connect', (req, socket: ServedSocket) => {
    socket.end(badRequestResponse({ code: 'SPRY_ERR_BAD_TARGET', message: `CONNECT ${JSON.stringify(req.url)}: spry does not tunnel` }, requestHeadFromNode(req, socket[kConnection]!)));
  });
  // A head node:http's parser refused: its own answer (what it sends without this listener),
  // counted and logged as the request it was, as nginx logs its 400s.
  server.on('clientError', (error: ClientError, socket: ServedSocket) => answerClientError(error, socket));
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

const UPGRADE_REQUIRED = 'HTTP/1.1 426 Upgrade Required\r\nconnection: close\r\ncontent-length: 0\r\n\r\n';

/** The edge's test (edge-app.ts): a declared length over the limit is refused unread. */
function declaresOverLimit(req: IncomingMessage, limitPostBytes: number): boolean {
  const declared = req.headers['content-length'];
  return limitPostBytes > 0 && declared !== undefined && Number(declared) > limitPostBytes;
}

/** A whole 400 response, for a socket node:http no longer writes responses on (CONNECT, upgrades). */
function badRequestResponse(problem: RequestHeadProblem, head: RequestHead): string {
  const body = badRequestBody(problem);
  const bodyBytes = Buffer.byteLength(body);
  const responseHead = `HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${bodyBytes}\r\nconnection: close\r\n\r\n`;
  countRefusal(head, problem.code, 400, responseHead.length, bodyBytes);
  return responseHead + body;
}

/** A 400 naming the problem; the connection closes after it (what follows cannot be trusted). */
function refuse(res: ServerResponse, problem: RequestHeadProblem, head: RequestHead): void {
  const body = badRequestBody(problem);
  const bodyBytes = Buffer.byteLength(body);
  res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', 'content-length': bodyBytes, connection: 'close' });
  res.end(body);
  countRefusal(head, problem.code, 400, Buffer.byteLength((res as unknown as OutgoingPrivates)._header ?? '', 'latin1'), bodyBytes);
}

type ClientError = NodeJS.ErrnoException & { rawPacket?: Buffer };

/** node:http's answers to what its parser refuses (_http_server.js socketOnError), by error code; 400 for the rest. */
const CLIENT_ERROR_STATUS: Readonly<Record<string, number>> = { HPE_HEADER_OVERFLOW: 431, HPE_CHUNK_EXTENSIONS_OVERFLOW: 413, ERR_HTTP_REQUEST_TIMEOUT: 408 };

/**
 * What node:http does with a client error when no 'clientError' listener is there: an answer
 * if the socket can still take one and no response of its own has started, then the socket is
 * destroyed. The answer is a request refused, for the stats and the access log.
 */
function answerClientError(error: ClientError, socket: ServedSocket): void {
  const response = assignedResponse(socket) as unknown as OutgoingPrivates | null;
  if (socket.writable && (response === null || !response._headerSent)) {
    const status = CLIENT_ERROR_STATUS[error.code ?? ''] ?? 400;
    const answer = `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`;
    socket.write(answer);
    const connection = socket[kConnection];
    if (connection !== undefined) countRefusal(refusedRequestHead(error.rawPacket, connection), error.code ?? 'HPE_INVALID', status, answer.length, 0);
  }
  socket.destroy(error);
}
