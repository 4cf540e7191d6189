// Inbound flow control, how credit goes back (docs/spdy-protocol.md §6): a raw peer uploads to an app that reads at
// once. A peer that uses the windows spry granted gets WINDOW_UPDATEs a quarter window at a
// time, so a bulk upload costs few of them; a peer that keeps to the default 64 KiB windows (as
// one that ignored our SETTINGS would) still finishes: what a step has not returned goes back
// once the upload has gone quiet.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULTS } from '../../src/config/config.ts';
import { creditStep } from '../../src/spdy/session.ts';
import { RawSpdyPeer } from '../helpers/raw-spdy-peer.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const DEFAULT_WINDOW_BYTES = 65_536;
const FRAME_BYTES = 16_384;
const STREAM_WINDOW_BYTES = DEFAULTS.tuning.initialWindowBytes;
const SESSION_WINDOW_BYTES = DEFAULTS.tuning.sessionWindowBytes;

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

function credit(peer: RawSpdyPeer, streamId: number): number {
  return peer.framesOf('WINDOW_UPDATE', streamId).reduce((sum, frame) => sum + frame.delta, 0);
}

/**
 * Uploads `total` bytes on stream 1 to /upload, never having more unacknowledged than `window`
 * on the stream (and on the session, for 3.1): waits for credit whenever the next frame would
 * not fit, as a peer with that window must.
 */
async function uploadWithin(peer: RawSpdyPeer, alpn: 'spdy/3' | 'spdy/3.1', total: number, window: number): Promise<void> {
  peer.write(peer.request(1, '/upload?format=json', { method: 'POST', fin: false }));
  for (let sent = 0; sent < total; sent += FRAME_BYTES) {
    const fits = (): boolean =>
      sent + FRAME_BYTES - credit(peer, 1) <= window && (alpn === 'spdy/3' || sent + FRAME_BYTES - credit(peer, 0) <= window + sessionHeadroom(window));
    if (!fits()) await peer.until(fits, 5_000, `credit to send byte ${sent + FRAME_BYTES} of ${total} within ${window}`);
    peer.write(peer.data(1, Buffer.alloc(FRAME_BYTES, 0x61), sent + FRAME_BYTES >= total));
  }
  await peer.nextFrame((frame) => frame.type === 'DATA' && frame.streamId === 1 && frame.fin, 10_000, 'the response');
}

/** On 3.1 spry opens the session window past 64 KiB with a stream-0 WINDOW_UPDATE at connect. */
function sessionHeadroom(window: number): number {
  return window === DEFAULT_WINDOW_BYTES ? 0 : SESSION_WINDOW_BYTES - DEFAULT_WINDOW_BYTES;
}

describe('credit for uploaded bytes', () => {
  for (const alpn of ['spdy/3', 'spdy/3.1'] as const) {
    it(`${alpn}: a peer that keeps to the default 64 KiB window still finishes, on credit returned once it goes quiet`, { timeout: 20_000 }, async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        const total = 1 << 20;
        await uploadWithin(peer, alpn, total, DEFAULT_WINDOW_BYTES);
        const updates = peer.framesOf('WINDOW_UPDATE', 1);
        for (const update of updates) assert.ok(update.delta <= DEFAULT_WINDOW_BYTES, `a step of ${update.delta}`);
        assert.ok(credit(peer, 1) >= total - DEFAULT_WINDOW_BYTES, `credit ${credit(peer, 1)} for ${total} bytes`);
      } finally {
        peer.close();
      }
    });

    it(`${alpn}: a peer that uses the granted windows gets credit a quarter window at a time`, { timeout: 20_000 }, async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        const total = 8 << 20;
        await uploadWithin(peer, alpn, total, STREAM_WINDOW_BYTES);
        const step = creditStep(STREAM_WINDOW_BYTES);
        assert.equal(step, STREAM_WINDOW_BYTES / 4);
        const updates = peer.framesOf('WINDOW_UPDATE', 1);
        // Before the peer had more than 64 KiB unacknowledged, steps were 32 KiB: a few of those.
        assert.ok(updates.length <= total / step + 4, `${updates.length} stream WINDOW_UPDATEs for 8 MiB`);
        assert.ok(updates.filter((update) => update.delta >= step).length >= total / step - 4);
        if (alpn === 'spdy/3.1') {
          const sessionUpdates = peer.framesOf('WINDOW_UPDATE', 0).slice(1); // the first opens the window at connect
          assert.ok(sessionUpdates.length <= 4, `${sessionUpdates.length} session WINDOW_UPDATEs for 8 MiB`);
        }
      } finally {
        peer.close();
      }
    });
  }
});
