// Session errors (docs/spdy-protocol.md §12): the server answers with GOAWAY (PROTOCOL_ERROR on v3; v2 has no status
// field), its last-good-stream-id the highest stream it accepted, then closes the connection —
// and goes on serving new connections.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SpdyClient } from '../../src/spdy/client.ts';
import { RawSpdyPeer, patternBytes } from '../helpers/raw-spdy-peer.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const PROTOCOL_ERROR = 1;
const MAX_CONTROL_FRAME_BYTES = 16_384;

let server: TestServer;
before(async () => {
  server = await startTestServer({ tuning: { maxControlFrameBytes: MAX_CONTROL_FRAME_BYTES } });
});
after(() => server.close());

type Alpn = 'spdy/2' | 'spdy/3' | 'spdy/3.1';

/** Waits for GOAWAY, checks it, and checks the connection then closes with nothing after it. */
async function expectGoawayThenClose(peer: RawSpdyPeer, lastGoodStreamId: number): Promise<void> {
  const goaway = await peer.nextOfType('GOAWAY');
  assert.equal(goaway.lastGoodStreamId, lastGoodStreamId, 'last-good-stream-id');
  assert.equal(goaway.status, peer.version.wire === 2 ? undefined : PROTOCOL_ERROR, 'GOAWAY status');
  await peer.closed();
  assert.equal(peer.frames.at(-1)?.type, 'GOAWAY', `frames after GOAWAY: ${peer.describe(4)}`);
  assert.deepEqual(peer.framesOf('DECODE_ERROR'), []);
}

/** A fresh connection still gets a 200. */
async function expectServerStillServes(alpn: Alpn): Promise<void> {
  const client = await SpdyClient.connect({ host: '127.0.0.1', port: server.port, protocol: alpn });
  try {
    const response = await client.request('/bytes?n=1000');
    assert.equal(response.status, 200);
    assert.ok(response.body.equals(patternBytes(1000)));
  } finally {
    await client.close();
  }
}

async function completeRequest(peer: RawSpdyPeer, id: number): Promise<void> {
  peer.write(peer.request(id, '/bytes?n=10'));
  assert.equal((await peer.response(id)).status, 200);
}

for (const alpn of ['spdy/2', 'spdy/3', 'spdy/3.1'] as const) {
  describe(`session errors on ${alpn}`, () => {
    it('a SYN_STREAM whose header block is not zlib gets GOAWAY PROTOCOL_ERROR, and the connection closes', { timeout: 10_000 }, async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        // 0xff…: a bad zlib header as a first block; as deflate data, the reserved block type 3.
        peer.write(peer.synStreamWithBlock(1, Buffer.alloc(24, 0xff), { fin: true }));
        await expectGoawayThenClose(peer, 0);
      } finally {
        peer.close();
      }
      await expectServerStillServes(alpn);
    });

    it('garbage after a good header block (the shared zlib stream broken) gets GOAWAY naming the accepted stream', { timeout: 10_000 }, async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        await completeRequest(peer, 1);
        peer.write(peer.synStreamWithBlock(3, Buffer.alloc(24, 0xff), { fin: true }));
        await expectGoawayThenClose(peer, 1);
      } finally {
        peer.close();
      }
      await expectServerStillServes(alpn);
    });

    it('a SYN_STREAM id lower than a previous one gets GOAWAY with last-good-stream-id the highest accepted', { timeout: 10_000 }, async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        await completeRequest(peer, 1);
        await completeRequest(peer, 5);
        peer.write(peer.request(3, '/bytes?n=10'));
        await expectGoawayThenClose(peer, 5);
        assert.deepEqual(peer.framesOf('SYN_REPLY', 3), [], 'stream 3 was served');
      } finally {
        peer.close();
      }
      await expectServerStillServes(alpn);
    });

    it('a frame header claiming a control frame above the limit gets GOAWAY before its payload arrives', { timeout: 10_000 }, async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        await completeRequest(peer, 1);
        // SYN_STREAM, length one byte over the limit; only the header and a few bytes are sent.
        const header = Buffer.alloc(8);
        header.writeUInt16BE(0x8000 | peer.version.wire, 0);
        header.writeUInt16BE(1, 2);
        header.writeUInt32BE(MAX_CONTROL_FRAME_BYTES + 1, 4);
        peer.write(header, Buffer.alloc(16));
        await expectGoawayThenClose(peer, 1);
      } finally {
        peer.close();
      }
      await expectServerStillServes(alpn);
    });

    if (alpn === 'spdy/3.1') {
      it('a stream-0 WINDOW_UPDATE pushing the session window past 2^31-1 gets GOAWAY PROTOCOL_ERROR', { timeout: 10_000 }, async () => {
        const peer = await RawSpdyPeer.connect(server.port, alpn);
        try {
          await completeRequest(peer, 1);
          // The session send window is at most 65536 here; this takes it over 2^31-1 (docs/spdy-protocol.md §6).
          peer.write(peer.windowUpdate(0, 0x7fff_ffff));
          await expectGoawayThenClose(peer, 1);
        } finally {
          peer.close();
        }
        await expectServerStillServes(alpn);
      });
    }

    it('skips an unknown control type larger than the control-frame limit and goes on serving', { timeout: 10_000 }, async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        // Unknown types are skipped by length, whatever their size, without being buffered (docs/spdy-protocol.md §17.5).
        const length = 200_000;
        const header = Buffer.alloc(8);
        header.writeUInt16BE(0x8000 | peer.version.wire, 0);
        header.writeUInt16BE(0x7777, 2);
        header.writeUInt32BE(length, 4);
        peer.write(header);
        peer.write(Buffer.alloc(length, 0x5a));
        peer.write(peer.ping(7));
        const echo = await peer.nextOfType('PING');
        assert.equal(echo.id, 7);
        assert.equal(peer.frames.some((frame) => frame.type === 'GOAWAY'), false);
      } finally {
        peer.close();
      }
    });
  });
}
