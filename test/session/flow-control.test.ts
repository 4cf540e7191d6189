// Outbound flow control (docs/spdy-protocol.md §6): the server never sends past the window the peer gave it — the
// stream window on spdy/3 and 3.1, and also the session window on 3.1, which only a stream-0
// WINDOW_UPDATE opens (docs/spdy-protocol.md §17.7).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawSpdyPeer, patternBytes, sleep } from '../helpers/raw-spdy-peer.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const INITIAL_WINDOW_SIZE = 7;
/** Long enough for a server that ignores the window to have sent more. */
const QUIET_MS = 300;

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

for (const alpn of ['spdy/3', 'spdy/3.1'] as const) {
  describe(`stream flow control on ${alpn}`, () => {
    it('sends exactly the 16384 bytes SETTINGS allowed, then exactly the 10000 a WINDOW_UPDATE adds', async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        peer.write(peer.settings([{ id: INITIAL_WINDOW_SIZE, value: 16_384 }]), peer.request(1, '/bytes?n=200000'));
        await peer.until(() => peer.dataBytes(1) >= 16_384, 3000, '16384 bytes on stream 1');
        await sleep(QUIET_MS);
        assert.equal(peer.dataBytes(1), 16_384, `more than the window: ${peer.describe(6)}`);

        peer.write(peer.windowUpdate(1, 10_000));
        await peer.until(() => peer.dataBytes(1) >= 26_384, 3000, '10000 more bytes on stream 1');
        await sleep(QUIET_MS);
        assert.equal(peer.dataBytes(1), 26_384, `more than the window: ${peer.describe(6)}`);

        assert.equal(peer.framesOf('DATA', 1).some((frame) => frame.fin), false);
        assert.ok(peer.body(1).equals(patternBytes(26_384)), 'the bytes are the start of the body, in order');
        assert.deepEqual(peer.framesOf('RST_STREAM'), []);
        assert.deepEqual(peer.framesOf('GOAWAY'), []);
      } finally {
        peer.close();
      }
    });

    it('a SETTINGS window change applies to a stream already open, and the body completes once the window allows', async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        peer.write(peer.settings([{ id: INITIAL_WINDOW_SIZE, value: 1000 }]), peer.request(1, '/bytes?n=5000'));
        await peer.until(() => peer.dataBytes(1) >= 1000, 3000, '1000 bytes');
        await sleep(100);
        assert.equal(peer.dataBytes(1), 1000);
        // +4000 to every open stream's window (docs/spdy-protocol.md §6: recompute by the difference).
        peer.write(peer.settings([{ id: INITIAL_WINDOW_SIZE, value: 5000 }]));
        const fin = await peer.nextFrame((frame) => frame.type === 'DATA' && frame.streamId === 1 && frame.fin, 3000, 'FIN on stream 1');
        assert.ok(fin);
        assert.ok(peer.body(1).equals(patternBytes(5000)));
      } finally {
        peer.close();
      }
    });

    it('a SETTINGS window decrease can leave a stream window negative; it must climb back above 0 before more is sent', async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        if (alpn === 'spdy/3.1') peer.write(peer.windowUpdate(0, 1 << 20));
        peer.write(peer.request(1, '/bytes?n=200000'));
        await peer.until(() => peer.dataBytes(1) >= 65_536, 3000, 'the default 65536-byte window');
        await sleep(100);
        assert.equal(peer.dataBytes(1), 65_536);
        // docs/spdy-protocol.md §6's example: 64 KiB sent, then INITIAL_WINDOW_SIZE 16 KiB: the window is -48 KiB.
        peer.write(peer.settings([{ id: INITIAL_WINDOW_SIZE, value: 16_384 }]), peer.windowUpdate(1, 49_152));
        await sleep(QUIET_MS);
        assert.equal(peer.dataBytes(1), 65_536, `sent with a window of 0: ${peer.describe(4)}`);
        peer.write(peer.windowUpdate(1, 1000));
        await peer.until(() => peer.dataBytes(1) >= 66_536, 3000, '1000 more bytes');
        await sleep(QUIET_MS);
        assert.equal(peer.dataBytes(1), 66_536);
        assert.ok(peer.body(1).equals(patternBytes(66_536)));
      } finally {
        peer.close();
      }
    });
  });
}

describe('session flow control on spdy/3.1', () => {
  it('never sends more than 65536 bytes across streams until the peer opens the session window on stream 0', async () => {
    const peer = await RawSpdyPeer.connect(server.port, 'spdy/3.1');
    try {
      // Stream windows far larger than the session window: only the session window can stop it.
      peer.write(peer.settings([{ id: INITIAL_WINDOW_SIZE, value: 16 << 20 }]), peer.request(1, '/bytes?n=200000'), peer.request(3, '/bytes?n=200000'));
      await peer.until(() => peer.dataBytes() >= 65_536, 3000, '65536 bytes');
      await sleep(QUIET_MS);
      assert.equal(peer.dataBytes(), 65_536, `past the session window: ${peer.describe(8)}`);

      // A stream WINDOW_UPDATE alone must not unblock sending (docs/spdy-protocol.md §17.7).
      peer.write(peer.windowUpdate(1, 100_000), peer.windowUpdate(3, 100_000));
      await sleep(QUIET_MS);
      assert.equal(peer.dataBytes(), 65_536, `a stream WINDOW_UPDATE opened the session window: ${peer.describe(8)}`);

      peer.write(peer.windowUpdate(0, 50_000));
      await peer.until(() => peer.dataBytes() >= 115_536, 3000, '50000 more bytes');
      await sleep(QUIET_MS);
      assert.equal(peer.dataBytes(), 115_536, `past the session window: ${peer.describe(8)}`);

      peer.write(peer.windowUpdate(0, 1 << 20));
      for (const id of [1, 3]) {
        await peer.nextFrame((frame) => frame.type === 'DATA' && frame.streamId === id && frame.fin, 3000, `FIN on stream ${id}`);
        assert.ok(peer.body(id).equals(patternBytes(200_000)), `body of stream ${id}`);
      }
      assert.deepEqual(peer.framesOf('RST_STREAM'), []);
    } finally {
      peer.close();
    }
  });

  it('spdy/3 ignores a stream-0 WINDOW_UPDATE and has no session window', async () => {
    const peer = await RawSpdyPeer.connect(server.port, 'spdy/3');
    try {
      peer.write(peer.windowUpdate(0, 1000), peer.settings([{ id: INITIAL_WINDOW_SIZE, value: 16 << 20 }]), peer.request(1, '/bytes?n=200000'));
      await peer.nextFrame((frame) => frame.type === 'DATA' && frame.streamId === 1 && frame.fin, 3000, 'FIN on stream 1');
      assert.equal(peer.dataBytes(1), 200_000);
      assert.deepEqual(peer.framesOf('GOAWAY'), []);
    } finally {
      peer.close();
    }
  });
});

describe('no flow control on spdy/2', () => {
  it('sends a body far larger than 64 KiB without any WINDOW_UPDATE from the peer', async () => {
    const peer = await RawSpdyPeer.connect(server.port, 'spdy/2');
    try {
      peer.write(peer.request(1, '/bytes?n=1000000'));
      await peer.nextFrame((frame) => frame.type === 'DATA' && frame.streamId === 1 && frame.fin, 5000, 'FIN on stream 1');
      assert.ok(peer.body(1).equals(patternBytes(1_000_000)));
    } finally {
      peer.close();
    }
  });

  it('honours a window once the peer announces one with SETTINGS (as node-spdy does)', async () => {
    const peer = await RawSpdyPeer.connect(server.port, 'spdy/2');
    try {
      peer.write(peer.settings([{ id: INITIAL_WINDOW_SIZE, value: 16_384 }]), peer.request(1, '/bytes?n=200000'));
      await peer.until(() => peer.dataBytes(1) >= 16_384, 3000, '16384 bytes');
      await sleep(QUIET_MS);
      assert.equal(peer.dataBytes(1), 16_384);
      peer.write(peer.windowUpdate(1, 10_000));
      await peer.until(() => peer.dataBytes(1) >= 26_384, 3000, '10000 more bytes');
      await sleep(QUIET_MS);
      assert.equal(peer.dataBytes(1), 26_384);
    } finally {
      peer.close();
    }
  });
});
