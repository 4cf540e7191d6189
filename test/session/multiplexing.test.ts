// Many streams on one connection (docs/spdy-protocol.md §7 MAX_CONCURRENT_STREAMS, SPEC "schedules outbound frames
// fairly"): a thousand at once all complete, a slow response does not hold back a fast one, and
// two large downloads share the connection frame by frame.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SpdyClient } from '../../src/spdy/client.ts';
import { RawSpdyPeer, patternBytes } from '../helpers/raw-spdy-peer.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

describe('1,000 concurrent streams', () => {
  it('spdy/3.1: 1,000 streams opened at once on one connection all complete with the right bodies', { timeout: 30_000 }, async () => {
    const client = await SpdyClient.connect({ host: '127.0.0.1', port: server.port, protocol: 'spdy/3.1' });
    try {
      const sizes = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 20_000);
      const responses = await Promise.all(sizes.map((n) => client.request(`/bytes?n=${n}`)));
      const ids = new Set<number>();
      for (let i = 0; i < sizes.length; i++) {
        const response = responses[i];
        assert.equal(response.status, 200, `request ${i}`);
        assert.ok(response.body.equals(patternBytes(sizes[i])), `body of request ${i} (n=${sizes[i]})`);
        ids.add(response.streamId);
      }
      assert.equal(ids.size, 1000, 'each request had its own stream');
      assert.equal(Math.max(...ids), 1999, 'all on one connection: stream ids 1, 3, …, 1999');
      assert.equal(client.session.destroyed, false);
    } finally {
      await client.close();
    }
  });
});

for (const alpn of ['spdy/2', 'spdy/3', 'spdy/3.1'] as const) {
  describe(`fairness on ${alpn}`, () => {
    it('a slow response does not block a fast one opened after it on the same connection', { timeout: 10_000 }, async () => {
      const client = await SpdyClient.connect({ host: '127.0.0.1', port: server.port, protocol: alpn });
      try {
        const order: string[] = [];
        const slow = client.request('/slow?ms=1500').then((response) => {
          order.push('slow');
          return response;
        });
        const fast = client.request('/bytes?n=100').then((response) => {
          order.push('fast');
          return { response };
        });
        const [slowResponse, fastResult] = await Promise.all([slow, fast]);
        assert.deepEqual(order, ['fast', 'slow']);
        assert.ok(slowResponse.streamId < fastResult.response.streamId, 'the slow stream was opened first');
        assert.equal(slowResponse.body.toString(), 'slow done\n');
        assert.ok(fastResult.response.body.equals(patternBytes(100)));
      } finally {
        await client.close();
      }
    });

    it('two large downloads on one connection interleave their DATA frames', { timeout: 10_000 }, async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      const size = 1_000_000;
      try {
        // Windows big enough that flow control plays no part (v2 has none to open).
        if (alpn !== 'spdy/2') peer.write(peer.settings([{ id: 7, value: 16 << 20 }]));
        if (alpn === 'spdy/3.1') peer.write(peer.windowUpdate(0, 16 << 20));
        peer.write(peer.request(1, `/bytes?n=${size}`), peer.request(3, `/bytes?n=${size}`));
        const fins = await Promise.all(
          [1, 3].map((id) => peer.nextFrame((frame) => frame.type === 'DATA' && frame.streamId === id && frame.fin, 5000, `FIN on stream ${id}`)),
        );
        const firstData = [1, 3].map((id) => peer.framesOf('DATA', id)[0].seq);
        const firstFin = Math.min(...fins.map((frame) => frame.seq));
        assert.ok(Math.max(...firstData) < firstFin, `one stream finished before the other began: ${peer.describe(6)}`);
        // Round-robin: the streams alternate many times, not just once.
        const data = peer.framesOf('DATA').filter((frame) => frame.data.length > 0);
        let switches = 0;
        for (let i = 1; i < data.length; i++) if (data[i].streamId !== data[i - 1].streamId) switches++;
        assert.ok(switches >= 20, `only ${switches} switches between the two streams`);
        for (const id of [1, 3]) assert.ok(peer.body(id).equals(patternBytes(size)), `body of stream ${id}`);
      } finally {
        peer.close();
      }
    });
  });
}
