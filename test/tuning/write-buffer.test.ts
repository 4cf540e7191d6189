// write-buffer: how many response bytes an app may queue on a stream the client is not taking
// before res.write() returns false. An app writes 1 KiB chunks, one per event-loop turn, to a
// client whose flow-control window is (nearly) shut, and reports how much it wrote; the counts
// follow --write-buffer on one listener and the write-buffer= key on the other.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClientHttp2Stream } from 'node:http2';
import { RawSpdyPeer } from '../helpers/raw-spdy-peer.ts';
import { CHUNK_BYTES, drained, filled, newTag } from '../fixtures/tuning-app.ts';
import type { RunningServer } from '../../src/server.ts';
import { SETTINGS_INITIAL_WINDOW_SIZE, connectH2, portOf, startFromCommandLine } from './probes.ts';

const GLOBAL_WRITE_BUFFER_BYTES = 16_384;
const OWN_WRITE_BUFFER_BYTES = 262_144;
/** The SPDY peer's window: this much response gets onto the wire, the rest stays with spry. */
const SPDY_PEER_WINDOW_BYTES = 4096;

let server: RunningServer;
before(async () => {
  server = await startFromCommandLine([
    '--write-buffer', String(GLOBAL_WRITE_BUFFER_BYTES),
    '--https2', 'addr=127.0.0.1:0,spdy=1',
    '--https2', `addr=127.0.0.1:0,spdy=1,write-buffer=${OWN_WRITE_BUFFER_BYTES}`,
  ]);
});
after(() => server.close());

const LISTENERS = [
  { name: '--write-buffer', index: 0, writeBufferBytes: GLOBAL_WRITE_BUFFER_BYTES },
  { name: 'the write-buffer= key', index: 1, writeBufferBytes: OWN_WRITE_BUFFER_BYTES },
] as const;

/**
 * What the app wrote before it was told to wait. At least write-buffer: nothing below it may
 * refuse. Less than write-buffer plus what the client's window let onto the wire plus the
 * one chunk whose write crossed the mark: nothing else holds response bytes.
 */
function assertBounded(written: number, writeBufferBytes: number, onTheWire: number): void {
  assert.ok(written >= writeBufferBytes, `res.write() returned false after ${written} bytes, below write-buffer ${writeBufferBytes}`);
  assert.ok(written < writeBufferBytes + onTheWire + CHUNK_BYTES, `res.write() returned true for ${written} bytes, write-buffer ${writeBufferBytes} + window ${onTheWire}`);
}

for (const alpn of ['spdy/3.1', 'spdy/3'] as const) {
  describe(`write-buffer on ${alpn}`, () => {
    for (const { name, index, writeBufferBytes } of LISTENERS) {
      it(`${name} (${writeBufferBytes}): res.write() returns false once that much waits behind a ${SPDY_PEER_WINDOW_BYTES}-byte window, and 'drain' follows when the window opens`, async () => {
        const peer = await RawSpdyPeer.connect(portOf(server, index), alpn);
        const tag = newTag();
        try {
          // The window applies to the stream opened right after it.
          peer.write(peer.settings([{ id: SETTINGS_INITIAL_WINDOW_SIZE, value: SPDY_PEER_WINDOW_BYTES }]), peer.request(1, `/fill?tag=${tag}`));
          const written = await filled.next(tag);
          assertBounded(written, writeBufferBytes, SPDY_PEER_WINDOW_BYTES);
          // A PING round trip: whatever the scheduler framed is here. No more than the window.
          peer.write(peer.ping(1));
          await peer.nextOfType('PING');
          assert.equal(peer.dataBytes(1), SPDY_PEER_WINDOW_BYTES, 'DATA received on the stream');

          // On 3.1 the session window (64 KiB, never raised by this peer) must open too.
          peer.write(peer.windowUpdate(1, 4 * OWN_WRITE_BUFFER_BYTES), ...(alpn === 'spdy/3.1' ? [peer.windowUpdate(0, 4 * OWN_WRITE_BUFFER_BYTES)] : []));
          assert.equal(await drained.next(tag), written);
        } finally {
          peer.close();
        }
      });
    }
  });
}

describe('write-buffer on h2', () => {
  for (const { name, index, writeBufferBytes } of LISTENERS) {
    it(`${name} (${writeBufferBytes}): res.write() returns false once that much waits behind a shut window, and 'drain' follows when it opens`, async () => {
      // A window of 0: node:http2's client opens the window as its own buffer takes DATA, so
      // only a shut one keeps every response byte on the server.
      const session = await connectH2(`https://127.0.0.1:${portOf(server, index)}`, { initialWindowSize: 0 });
      const tag = newTag();
      try {
        const stream: ClientHttp2Stream = session.request({ ':path': `/fill?tag=${tag}` }, { endStream: true });
        stream.on('error', () => {});
        const written = await filled.next(tag);
        assertBounded(written, writeBufferBytes, 0);

        session.settings({ initialWindowSize: 4 * OWN_WRITE_BUFFER_BYTES });
        stream.resume();
        assert.equal(await drained.next(tag), written);
      } finally {
        session.destroy();
      }
    });
  }
});
