// Ending a session on purpose (docs/spdy-protocol.md §8, SPEC "SPDY behaviour"): closing the listener sends GOAWAY
// (OK on v3) naming the last stream accepted, lets open streams finish and refuses new ones;
// a client's GOAWAY lets the streams it started finish before the server closes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RawSpdyPeer, sleep } from '../helpers/raw-spdy-peer.ts';
import { startTestServer } from '../helpers/server.ts';

const REFUSED_STREAM = 3;

for (const alpn of ['spdy/2', 'spdy/3', 'spdy/3.1'] as const) {
  describe(`graceful close on ${alpn}`, () => {
    it('closing the listener sends GOAWAY, finishes the open stream, refuses a new one, then closes', { timeout: 10_000 }, async () => {
      const server = await startTestServer();
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        peer.write(peer.request(1, '/slow?ms=300'));
        await sleep(50);
        const closing = server.close();
        const goaway = await peer.nextOfType('GOAWAY');
        assert.equal(goaway.lastGoodStreamId, 1);
        assert.equal(goaway.status, alpn === 'spdy/2' ? undefined : 0);

        // The peer had not seen the GOAWAY yet when it opened stream 3 (docs/spdy-protocol.md §8: refuse or ignore).
        peer.write(peer.request(3, '/bytes?n=10'));
        const response = await peer.response(1);
        assert.equal(response.status, 200);
        assert.equal(response.body.toString(), 'slow done\n');
        await peer.closed();
        assert.deepEqual(peer.framesOf('SYN_REPLY', 3), [], 'a stream opened after GOAWAY was served');
        for (const rst of peer.framesOf('RST_STREAM', 3)) assert.equal(rst.status, REFUSED_STREAM);
        await closing;
      } finally {
        peer.close();
        await server.close();
      }
    });

    it("a client's GOAWAY lets the open stream finish, then the server closes the connection", { timeout: 10_000 }, async () => {
      const server = await startTestServer();
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        peer.write(peer.request(1, '/slow?ms=200'));
        await sleep(30);
        peer.write(peer.goaway(0, 0));
        const response = await peer.response(1);
        assert.equal(response.status, 200);
        assert.equal(response.body.toString(), 'slow done\n');
        await peer.closed();
      } finally {
        peer.close();
        await server.close();
      }
    });
  });
}
