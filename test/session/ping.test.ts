// PING (docs/spdy-protocol.md §11): the server echoes a client PING (odd id) at once and unchanged, ignores an even id
// it did not send, and answers our own client's ping().

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SpdyClient } from '../../src/spdy/client.ts';
import { RawSpdyPeer, sleep } from '../helpers/raw-spdy-peer.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

for (const alpn of ['spdy/2', 'spdy/3', 'spdy/3.1'] as const) {
  describe(`PING on ${alpn}`, () => {
    it('echoes a PING with an odd id, with the same id', { timeout: 10_000 }, async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        peer.write(peer.ping(0x7654_3211));
        const echo = await peer.nextOfType('PING');
        assert.equal(echo.id, 0x7654_3211);
        peer.write(peer.ping(0xffff_ffff)); // the top bit is part of the opaque id
        assert.equal((await peer.nextOfType('PING')).id, 0xffff_ffff);
      } finally {
        peer.close();
      }
    });

    it('does not echo a PING with an even id', { timeout: 10_000 }, async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        // Frames are handled in order: the echo of 5 comes after any (wrong) echo of 4.
        peer.write(peer.ping(4), peer.ping(5));
        await peer.nextFrame((frame) => frame.type === 'PING' && frame.id === 5, undefined, 'the echo of PING 5');
        assert.deepEqual(
          peer.framesOf('PING').map((frame) => frame.id),
          [5],
        );
        assert.equal(peer.isClosed, false);
      } finally {
        peer.close();
      }
    });

    it('echoes a PING ahead of the DATA of a large response still queued', { timeout: 10_000 }, async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        if (alpn !== 'spdy/2') peer.write(peer.settings([{ id: 7, value: 1 << 30 }]));
        if (alpn === 'spdy/3.1') peer.write(peer.windowUpdate(0, 1 << 30));
        peer.write(peer.request(1, '/bytes?n=256000000'));
        await peer.nextOfType('DATA', 1);
        // Stop reading, so the server's buffers fill and the rest of the body waits in its queue;
        // a PING sent now must overtake that queue, not wait behind it.
        peer.socket.pause();
        peer.write(peer.ping(7));
        await sleep(200);
        peer.socket.resume();
        await peer.nextFrame((frame) => frame.type === 'PING' && frame.id === 7, 5000, 'the echo of PING 7');
        assert.equal(peer.framesOf('DATA', 1).filter((frame) => frame.fin).length, 0, 'the echo came only after the whole body');
        peer.write(peer.rst(1, 5 /* CANCEL */));
      } finally {
        peer.close();
      }
    });

    it('SpdyClient.session.ping() resolves with a round-trip time', { timeout: 10_000 }, async () => {
      const client = await SpdyClient.connect({ host: '127.0.0.1', port: server.port, protocol: alpn });
      try {
        const rtts = await Promise.all([client.session.ping(), client.session.ping(), client.session.ping()]);
        for (const rtt of rtts) {
          assert.equal(typeof rtt, 'number');
          assert.ok(rtt >= 0 && rtt < 3000, `rtt ${rtt}`);
        }
      } finally {
        await client.close();
      }
    });
  });
}
