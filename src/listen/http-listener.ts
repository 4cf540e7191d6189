// One --http listener: plain HTTP/1.1, and HTTP/2 for clients that open with the h2c
// connection preface (prior knowledge, RFC 9113 §3.3). Telling them apart costs one look at the
// first bytes; no upgrade dance.

import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { App } from '../apps/app.ts';
import type { HttpListenerConfig, SpdyTuning } from '../config/config.ts';
import { createHttp1FrontEnd } from '../http1/front-end.ts';
import { createHttp2FrontEnd } from '../http2/front-end.ts';
import { bind, closeGracefully } from './bind.ts';

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const CLOSE_GRACE_MS = 10_000;

export interface HttpListener {
  readonly config: HttpListenerConfig;
  readonly address: AddressInfo;
  readonly protocols: readonly string[];
  close(): Promise<void>;
}

export async function startHttpListener(config: HttpListenerConfig, app: App, options: { idleTimeoutMs: number; tuning: SpdyTuning }): Promise<HttpListener> {
  const http1 = createHttp1FrontEnd(app, { secure: false, idleTimeoutMs: options.idleTimeoutMs });
  const http2 = createHttp2FrontEnd(app, { secure: false, idleTimeoutMs: options.idleTimeoutMs, maxConcurrentStreams: options.tuning.maxConcurrentStreams });
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
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
  await bind(server, config.addr, '--http', config.source);
  return {
    config,
    protocols: ['http/1.1', 'h2c'],
    address: server.address() as AddressInfo,
    close: () =>
      closeGracefully(server, sockets, CLOSE_GRACE_MS, () => {
        http2.close();
        http1.close();
      }),
  };
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
