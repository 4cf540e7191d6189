// The HTTP/1.1 front end: node:http parses and serialises; we hand it sockets (TLS ones from
// the ALPN dispatcher, plain ones from --http listeners) with emit('connection').

import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { App } from '../apps/app.ts';
import type { StreamTuning } from '../config/config.ts';
import type { ConnectionInfo } from '../exchange/exchange.ts';
import { setHighWaterMarks } from '../exchange/high-water-marks.ts';
import { Http1Exchange } from './http1-exchange.ts';
import { connectionInfo, requestHeadFromNode } from './request-head.ts';

const kSocket = Symbol('spry.socket');

export interface Http1FrontEnd {
  /** Serves HTTP/1.1 on an accepted (and, for TLS, handshaken) socket. */
  accept(socket: Socket): void;
  /** Stops keep-alive reuse: idle connections close now, busy ones after their response. */
  close(): void;
}

export function createHttp1FrontEnd(app: App, options: { secure: boolean; idleTimeoutMs: number; tuning: StreamTuning }): Http1FrontEnd {
  const buffers = { writeBytes: options.tuning.writeBufferBytes, readBytes: options.tuning.readBufferBytes };
  // Requests in flight per connection. node:http tracks idle connections only for servers it
  // listens with itself, so a graceful close needs this count.
  const inFlight = new Map<Socket, number>();
  let closing = false;

  // Node 24 adds keepAliveTimeoutBuffer (1 s) to keepAliveTimeout; --http-timeout is the whole idle time.
  const connections = new WeakMap<Socket, ConnectionInfo>();
  // One shared handler (no closure per request): the response knows its socket by kSocket.
  function onResponseClose(this: ServerResponse & { [kSocket]?: Socket }): void {
    const socket = this[kSocket]!;
    const left = (inFlight.get(socket) ?? 1) - 1;
    if (inFlight.has(socket)) inFlight.set(socket, left);
    if (closing && left === 0) socket.end();
  }
  const server: Server = createServer({ keepAliveTimeout: options.idleTimeoutMs, keepAliveTimeoutBuffer: 0, requestTimeout: 0 }, (req, res) => {
    const socket = req.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    if (closing) res.shouldKeepAlive = false;
    (res as ServerResponse & { [kSocket]?: Socket })[kSocket] = socket;
    res.on('close', onResponseClose);
    let connection = connections.get(socket);
    if (connection === undefined) connections.set(socket, (connection = connectionInfo(socket, options.secure)));
    const head = requestHeadFromNode(req, connection);
    if (app.serveNode !== undefined) app.serveNode(req, res, head);
    else app.serve(new Http1Exchange(req, res, head, buffers));
  });
  // --http-timeout: a connection with no traffic for that long is closed, as on SPDY, unless a
  // request on it still waits for its response (the app or a backend's timeout answers it).
  server.timeout = options.idleTimeoutMs;
  server.on('timeout', (socket: Socket) => {
    if ((inFlight.get(socket) ?? 0) === 0) socket.destroy();
  });
  server.headersTimeout = Math.min(options.idleTimeoutMs, 60_000);
  return {
    accept(socket) {
      inFlight.set(socket, 0);
      socket.once('close', () => inFlight.delete(socket));
      // node:http sizes each request's IncomingMessage from the socket's read mark, and a
      // ServerResponse's write() reports the socket's fullness: write-buffer and read-buffer.
      setHighWaterMarks(socket, buffers);
      // Even while closing: HTTP/1.1 cannot refuse a request it has not read, so the one the
      // client already sent is served, with Connection: close.
      server.emit('connection', socket);
    },
    close() {
      closing = true;
      for (const [socket, count] of inFlight) if (count === 0) socket.end();
    },
  };
}
