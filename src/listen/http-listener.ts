// One --http listener: plain HTTP/1.1, and HTTP/2 for clients that open with the h2c
// connection preface (prior knowledge, RFC 9113 §3.3). Telling them apart costs one look at the
// first bytes; no upgrade dance.

import { createServer, type Socket } from 'node:net';
import type { App } from '../apps/app.ts';
import type { HttpListenerConfig, StreamTuning } from '../config/config.ts';
import { createHttp1FrontEnd } from '../http1/front-end.ts';
import { createHttp2FrontEnd } from '../http2/front-end.ts';
import { createPushPlanner } from '../push/push-planner.ts';
import { bind } from './bind.ts';
import { ConnectionSet, type ConnectionHandler, type Listener } from './connection-handler.ts';
import { boundListener } from './https-listener.ts';

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export function createHttpHandler(app: App, options: { idleTimeoutMs: number; tuning: StreamTuning }): ConnectionHandler {
  const http1 = createHttp1FrontEnd(app, { secure: false, ...options });
  // h2c clients get pushes from the default cache, as h2 ones on --https2 do.
  const http2 = createHttp2FrontEnd(app, { secure: false, ...options, pushPlanner: createPushPlanner(undefined) });
  const connections = new ConnectionSet();
  const server = createServer((socket) => {
    connections.add(socket);
    sniff(socket, (isH2) => {
      if (isH2) {
        // node:http2 takes the bytes already read from the socket's buffer itself.
        http2.accept(socket);
      } else {
        http1.accept(socket);
        socket.resume(); // node:http listens for 'data' but does not undo our pause()
      }
    });
  });
  return {
    protocols: ['http/1.1', 'h2c'],
    server,
    accept: (socket) => server.emit('connection', socket),
    drain(graceMs) {
      http2.close();
      http1.close();
      return connections.whenEmpty(graceMs);
    },
  };
}

export async function startHttpListener(config: HttpListenerConfig, app: App, options: { idleTimeoutMs: number; tuning: StreamTuning }): Promise<Listener & { readonly config: HttpListenerConfig }> {
  const handler = createHttpHandler(app, options);
  await bind(handler.server, config.addr, '--http', config.source);
  return boundListener(handler, config);
}

/**
 * Reads until the first bytes either match the h2c preface or cannot, puts them back, and says
 * which. An HTTP/1.1 request line never starts with "PRI * HTTP/2.0".
 */
function sniff(socket: Socket, decide: (isH2: boolean) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, H2_PREFACE.length);
    const matches = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
    if (matches && n < H2_PREFACE.length) return; // could still be h2c: wait for more
    socket.off('data', onData);
    socket.pause();
    socket.unshift(seen);
    decide(matches);
  };
  socket.on('data', onData);
}
