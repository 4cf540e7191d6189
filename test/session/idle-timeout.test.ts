// --http-timeout on SPDY (SPEC): a connection idle that long gets GOAWAY (status OK on v3) and
// is closed; traffic keeps it open.

import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { RawSpdyPeer, sleep } from '../helpers/raw-spdy-peer.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { testApp } from '../../examples/testapp.ts';

// Long enough that a loaded machine's scheduling gaps (a few hundred ms seen at load 19 on 2
// cores) between a client's pings do not look like idleness to the server.
const IDLE_MS = 1_000;
const DRIP_WRITES = 8;

/** The test app, plus /drip: one byte every IDLE_MS / 3, DRIP_WRITES times (2.7 timeouts long). */
function app(req: IncomingMessage, res: ServerResponse): void {
  if (req.url !== '/drip') return testApp(req, res);
  res.writeHead(200, { 'content-type': 'text/plain' });
  let n = 0;
  const timer = setInterval(() => {
    res.write('x');
    if (++n === DRIP_WRITES) {
      clearInterval(timer);
      res.end();
    }
  }, IDLE_MS / 3);
  res.on('close', () => clearInterval(timer));
}

let server: TestServer;
before(async () => {
  server = await startTestServer({ app, httpTimeoutMs: IDLE_MS });
});
after(() => server.close());

for (const alpn of ['spdy/2', 'spdy/3', 'spdy/3.1'] as const) {
  describe(`idle timeout on ${alpn}`, () => {
    it('sends GOAWAY and closes the connection once it has been idle for the timeout', async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        // The server's last activity is no earlier than our request (its response came after).
        const requestedAt = performance.now();
        peer.write(peer.request(1, '/bytes?n=10'));
        assert.equal((await peer.response(1)).status, 200);
        // Idle sessions are swept every second, so GOAWAY comes within a second after the timeout
        // on a quiet machine; the wait allows for a loaded one.
        const goaway = await peer.nextOfType('GOAWAY', undefined, IDLE_MS + 5_000);
        const idleFor = goaway.atMs - requestedAt;
        assert.ok(idleFor >= IDLE_MS - 20, `GOAWAY only ${idleFor.toFixed(0)} ms after the request`);
        assert.equal(goaway.lastGoodStreamId, 1);
        // v2's GOAWAY has no status field (docs/spdy-protocol.md §3.7); v3 says OK (0).
        assert.equal(goaway.status, alpn === 'spdy/2' ? undefined : 0);
        await peer.closed(2000);
        const last = peer.frames.at(-1);
        assert.equal(last?.type, 'GOAWAY', `frames after GOAWAY: ${peer.describe(4)}`);
      } finally {
        peer.close();
      }
    });

    it('keeps a connection open while a response is still streaming, though the client sends nothing', async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        peer.write(peer.request(1, '/drip'));
        const response = await peer.response(1, DRIP_WRITES * IDLE_MS);
        assert.equal(response.status, 200);
        assert.equal(response.body.toString(), 'x'.repeat(DRIP_WRITES));
        assert.deepEqual(peer.framesOf('GOAWAY'), [], `GOAWAY mid-response: ${peer.describe(6)}`);
      } finally {
        peer.close();
      }
    });

    it('keeps a connection that has traffic more often than the timeout', async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        for (let i = 0; i < 5; i++) {
          await sleep(IDLE_MS / 5);
          peer.write(peer.ping(2 * i + 1));
          await peer.nextFrame((frame) => frame.type === 'PING' && frame.id === 2 * i + 1);
        }
        assert.deepEqual(peer.framesOf('GOAWAY'), [], `closed while busy: ${peer.describe(6)}`);
        assert.equal(peer.isClosed, false);
      } finally {
        peer.close();
      }
    });
  });
}
