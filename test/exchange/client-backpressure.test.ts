// What a client can make spry hold is bounded on HTTP/1.1 and on the uwsgi front end: a client
// that pipelines requests and never reads its responses, and a client whose upload arrives
// before the app asks for it, are both stopped by TCP backpressure (spry stops reading their
// socket), while a second, well-behaved client is served meanwhile.

import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { App } from '../../src/apps/app.ts';
import { DEFAULTS } from '../../src/config/config.ts';
import type { ServerExchange } from '../../src/exchange/exchange.ts';
import { createUwsgiHandler } from '../../src/listen/uwsgi-listener.ts';
import { encodeUwsgiRequest } from '../../src/uwsgi/packet.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const MIB = 1 << 20;
/** How long a write may wait for 'drain' before the client counts itself stopped by the server. */
const STALL_MS = 1000;

/** Writes `next()` until it returns undefined or the socket stays full for STALL_MS; resolves with the bytes written and whether it stalled. */
async function writeUntilStalled(socket: Socket, next: () => Buffer | undefined): Promise<{ written: number; stalled: boolean }> {
  let written = 0;
  for (let chunk = next(); chunk !== undefined; chunk = next()) {
    written += chunk.length;
    if (socket.write(chunk)) continue;
    const drained = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), STALL_MS);
      socket.once('drain', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!drained) return { written, stalled: true };
  }
  return { written, stalled: false };
}

describe('HTTP/1.1: a client that pipelines requests and never reads', () => {
  const RESPONSE_BYTES = 64 << 10;
  const body = Buffer.alloc(RESPONSE_BYTES, 0x61);
  let served = 0;
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      app: (_req: IncomingMessage, res: ServerResponse) => {
        served++;
        res.end(body);
      },
    });
  });
  after(() => server.close());

  it('is stopped by backpressure once its unread responses fill the socket, and another client is served', async (t) => {
    const REQUESTS = 20_000;
    // 4 KiB a request: 80 MiB in all, more than any socket buffers between the two hold.
    const request = Buffer.from(`GET / HTTP/1.1\r\nHost: localhost\r\nX-Pad: ${'p'.repeat(4000)}\r\n\r\n`);
    const greedy = tlsConnect({ host: '127.0.0.1', port: server.port, ALPNProtocols: ['http/1.1'], rejectUnauthorized: false });
    greedy.on('error', () => {});
    await new Promise((resolve) => greedy.once('secureConnect', resolve));
    greedy.pause(); // never reads
    try {
      let sent = 0;
      const result = await writeUntilStalled(greedy, () => (sent++ < REQUESTS ? request : undefined));
      assert.ok(result.stalled, `the client wrote all ${REQUESTS} requests without being stopped`);
      const servedWhenStalled = served;
      t.diagnostic(`stopped after ${result.written / request.length} requests written, ${servedWhenStalled} answered`);
      // Bound: the app has answered only what the sockets' buffers hold (64 KiB responses; the
      // kernel's buffers on both sides are a few MiB), not the requests sent.
      assert.ok(servedWhenStalled < REQUESTS / 4, `the app answered ${servedWhenStalled} of ${result.written / request.length} requests`);

      const polite = await fetchOverTls(server.port, 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      assert.match(polite, /^HTTP\/1\.1 200 /);
      assert.equal(served, servedWhenStalled + 1, 'the stopped client got more served meanwhile');
    } finally {
      greedy.destroy();
    }
  });
});

describe('uwsgi: an upload that arrives before the app asks for it', () => {
  const BODY_BYTES = 64 * MIB;
  let handler: ReturnType<typeof createUwsgiHandler>;
  let port: number;
  /** The exchanges the app has not started reading yet. */
  const waiting: ServerExchange[] = [];
  const app: App = {
    style: 'fetch',
    serve(exchange) {
      if (exchange.head.target === '/late-reader') {
        waiting.push(exchange);
        return;
      }
      exchange.respond(200, ['content-length', '2'], false);
      exchange.end(Buffer.from('ok'));
    },
  };
  before(async () => {
    handler = createUwsgiHandler(app, { idleTimeoutMs: 30_000, tuning: DEFAULTS.tuning });
    await new Promise<void>((resolve) => handler.server.listen(0, '127.0.0.1', resolve));
    port = (handler.server.address() as AddressInfo).port;
  });
  after(() => handler.server.close());

  it('stops being read once read-buffer is held for no one, and every byte arrives when the app reads', async (t) => {
    const uploader = netConnect(port, '127.0.0.1');
    uploader.on('error', () => {});
    await new Promise((resolve) => uploader.once('connect', resolve));
    try {
      uploader.write(encodeUwsgiRequest({ REQUEST_METHOD: 'POST', REQUEST_URI: '/late-reader', HTTP_HOST: 'localhost', CONTENT_LENGTH: String(BODY_BYTES) }));
      const piece = Buffer.alloc(64 << 10, 0x62);
      let left = BODY_BYTES;
      const next = (): Buffer | undefined => {
        if (left === 0) return undefined;
        const chunk = left >= piece.length ? piece : piece.subarray(0, left);
        left -= chunk.length;
        return chunk;
      };
      const first = await writeUntilStalled(uploader, next);
      t.diagnostic(`stopped after ${first.written} bytes written`);
      assert.ok(first.stalled, `the uploader sent all ${BODY_BYTES} bytes while the app read none`);
      assert.ok(first.written < BODY_BYTES / 2, `the uploader sent ${first.written} bytes before it was stopped`);

      const polite = await new Promise<string>((resolve) => {
        const socket = netConnect(port, '127.0.0.1');
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
        socket.on('close', () => resolve(text));
        socket.write(encodeUwsgiRequest({ REQUEST_METHOD: 'GET', REQUEST_URI: '/', HTTP_HOST: 'localhost' }));
      });
      assert.match(polite, /^HTTP\/1\.1 200 /);

      // The app reads now: everything sent, and the rest, arrives.
      assert.equal(waiting.length, 1);
      const exchange = waiting[0];
      let received = 0;
      const ended = new Promise<void>((resolve) => {
        exchange.setBodySink({
          data: (chunk) => {
            received += chunk.length;
            return true;
          },
          end: resolve,
        });
      });
      const rest = await writeUntilStalled(uploader, next);
      assert.equal(rest.stalled, false);
      await ended;
      assert.equal(received, BODY_BYTES);
      exchange.respond(200, ['content-length', '0'], true);
    } finally {
      uploader.destroy();
    }
  });
});

function fetchOverTls(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ALPNProtocols: ['http/1.1'], rejectUnauthorized: false });
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no answer; got ${JSON.stringify(text.slice(0, 200))}`)), 5000);
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    socket.write(request);
  });
}
