// A SPDY request's DATA must add up to its content-length (src/spdy/body-length.ts,
// docs/request-heads.md §2): forwarded over a kept-alive connection to an HTTP backend, a body
// longer than declared would reach the backend as a second, smuggled request, and one shorter
// would make the backend take the next client's request as the rest of it. spry resets such a
// stream with PROTOCOL_ERROR before any of it is forwarded, as nghttp2 does on h2.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { before, describe, test } from 'node:test';
import { listenOnLoopback, stepsAfterAll } from '../helpers/backend-server.ts';
import { RstStatus } from '../../src/spdy/constants.ts';
import { RawSpdyPeer } from '../helpers/raw-spdy-peer.ts';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';

/** What the backend was asked: method, path and body bytes, in order. */
const seen: string[] = [];
let spry: SpryProcess;
const atEnd = stepsAfterAll();

before(async () => {
  const backend = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${bytes}`);
      res.end('ok');
    });
  });
  const port = await listenOnLoopback(backend, atEnd);
  spry = await startSpry(['--https2', 'addr=127.0.0.1:0,spdy=1', '--http-to', `http://127.0.0.1:${port}`, '--http-timeout', '5']);
  atEnd(() => spry.stop());
});

async function resetOf(peer: RawSpdyPeer, id: number): Promise<number> {
  await peer.until(() => peer.framesOf('RST_STREAM').some((frame) => frame.streamId === id), undefined, `RST_STREAM on stream ${id}`);
  return peer.framesOf('RST_STREAM').find((frame) => frame.streamId === id)!.status;
}

for (const alpn of ['spdy/2', 'spdy/3', 'spdy/3.1'] as const) {
  describe(`content-length on ${alpn} requests forwarded to a kept-alive HTTP backend`, { timeout: 30_000 }, () => {
    test('a body longer than its content-length is reset, and what followed the length never reaches the backend as a request', async () => {
      const peer = await RawSpdyPeer.connect(spry.listener('https').port, alpn);
      try {
        const smuggled = `GET /smuggled-${alpn} HTTP/1.1\r\nhost: x\r\n\r\n`;
        peer.write(peer.synStream(1, peer.requestHeaders(`/long-${alpn}`, { method: 'POST', extra: ['content-length', '0'] })), peer.data(1, smuggled, true));
        assert.equal(await resetOf(peer, 1), RstStatus.PROTOCOL_ERROR);
        peer.write(peer.request(3, `/after-long-${alpn}`));
        assert.equal((await peer.response(3)).status, 200);
        assert.ok(seen.includes(`GET /after-long-${alpn} 0`), seen.join(', '));
        assert.ok(!seen.some((line) => line.includes(`/smuggled-${alpn}`) || line.includes(`/long-${alpn}`)), seen.join(', '));
      } finally {
        peer.close();
      }
    });

    test('a FIN short of the content-length is reset, and the next client is answered in full', async () => {
      const peer = await RawSpdyPeer.connect(spry.listener('https').port, alpn);
      const next = await RawSpdyPeer.connect(spry.listener('https').port, alpn);
      try {
        peer.write(peer.request(1, `/short-${alpn}`, { extra: ['content-length', '40'] }));
        assert.equal(await resetOf(peer, 1), RstStatus.PROTOCOL_ERROR);
        peer.write(peer.synStream(3, peer.requestHeaders(`/short-data-${alpn}`, { method: 'POST', extra: ['content-length', '40'] })), peer.data(3, 'ten bytes.', true));
        assert.equal(await resetOf(peer, 3), RstStatus.PROTOCOL_ERROR);
        next.write(next.request(1, `/next-${alpn}`));
        const response = await next.response(1);
        assert.equal(response.status, 200);
        assert.equal(response.body.toString(), 'ok');
        assert.ok(!seen.some((line) => line.includes(`/short-`) && line.includes(alpn)), seen.join(', '));
      } finally {
        peer.close();
        next.close();
      }
    });

    test('a content-length that is not a length, or two that disagree, is reset', async () => {
      const peer = await RawSpdyPeer.connect(spry.listener('https').port, alpn);
      try {
        peer.write(peer.synStream(1, peer.requestHeaders(`/nan-${alpn}`, { method: 'POST', extra: ['content-length', '5x'] })), peer.data(1, 'hello', true));
        peer.write(peer.synStream(3, peer.requestHeaders(`/two-${alpn}`, { method: 'POST', extra: ['content-length', '5\u00004'] })), peer.data(3, 'hello', true));
        assert.equal(await resetOf(peer, 1), RstStatus.PROTOCOL_ERROR);
        assert.equal(await resetOf(peer, 3), RstStatus.PROTOCOL_ERROR);
        assert.ok(!seen.some((line) => line.includes(`/nan-${alpn}`) || line.includes(`/two-${alpn}`)), seen.join(', '));
      } finally {
        peer.close();
      }
    });

    test('a body as long as its content-length, in two DATA frames, arrives whole', async () => {
      const peer = await RawSpdyPeer.connect(spry.listener('https').port, alpn);
      try {
        peer.write(peer.synStream(1, peer.requestHeaders(`/exact-${alpn}`, { method: 'POST', extra: ['content-length', '11'] })), peer.data(1, 'hello '), peer.data(1, 'world', true));
        assert.equal((await peer.response(1)).status, 200);
        assert.ok(seen.includes(`POST /exact-${alpn} 11`), seen.join(', '));
        assert.deepEqual(peer.framesOf('RST_STREAM'), []);
      } finally {
        peer.close();
      }
    });
  });
}
