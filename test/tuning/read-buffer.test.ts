// read-buffer: how much of an upload spry takes for an app that is not reading it before the
// client has to wait. The app never reads; the client fills its window; the flow-control credit
// spry hands back follows --read-buffer on one listener and the read-buffer= key on the other.
// Once the app reads, the rest of the credit follows.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { RawSpdyPeer } from '../helpers/raw-spdy-peer.ts';
import { held, newTag } from '../fixtures/tuning-app.ts';
import { DEFAULTS } from '../../src/config/config.ts';
import type { RunningServer } from '../../src/server.ts';
import { creditStep } from '../../src/spdy/session.ts';
import { connectH2, portOf, startFromCommandLine } from './probes.ts';

const GLOBAL_READ_BUFFER_BYTES = 65_536;
const OWN_READ_BUFFER_BYTES = 524_288;
const DATA_FRAME_BYTES = 16_384;

const LISTENERS = [
  { name: '--read-buffer', index: 0, readBufferBytes: GLOBAL_READ_BUFFER_BYTES },
  { name: 'the read-buffer= key', index: 1, readBufferBytes: OWN_READ_BUFFER_BYTES },
] as const;

/** The WINDOW_UPDATE credit spry sent for `streamId` so far. */
function credit(peer: RawSpdyPeer, streamId: number): number {
  return peer.framesOf('WINDOW_UPDATE', streamId).reduce((sum, frame) => sum + frame.delta, 0);
}

describe('read-buffer on SPDY', () => {
  // The default spdy-window (1 MiB) is far above either read-buffer: the window is not what stops the upload.
  const WINDOW_BYTES = DEFAULTS.tuning.initialWindowBytes;
  // The peer below uses all of the window, so credit goes back in steps this large.
  const SPDY_WINDOW_UPDATE_THRESHOLD_BYTES = creditStep(WINDOW_BYTES);
  let server: RunningServer;
  before(async () => {
    server = await startFromCommandLine([
      '--read-buffer', String(GLOBAL_READ_BUFFER_BYTES),
      '--https2', 'addr=127.0.0.1:0,spdy=1',
      '--https2', `addr=127.0.0.1:0,spdy=1,read-buffer=${OWN_READ_BUFFER_BYTES}`,
    ]);
  });
  after(() => server.close());

  for (const alpn of ['spdy/3.1', 'spdy/3'] as const) {
    for (const { name, index, readBufferBytes } of LISTENERS) {
      it(`${alpn}, ${name} (${readBufferBytes}): a whole window of upload to an app that does not read earns about that much credit, the rest once it reads`, async () => {
        const peer = await RawSpdyPeer.connect(portOf(server, index), alpn);
        const tag = newTag();
        try {
          peer.write(peer.request(1, `/hold?tag=${tag}`, { method: 'POST', fin: false }));
          const request = await held.next(tag);
          for (let sent = 0; sent < WINDOW_BYTES; sent += DATA_FRAME_BYTES) peer.write(peer.data(1, Buffer.alloc(DATA_FRAME_BYTES, 0x62)));
          // spry takes DATA and returns credit in the same turn: after the echo, it has said all it will.
          peer.write(peer.ping(1));
          await peer.nextOfType('PING');

          // The app's buffer takes DATA pieces until it holds read-buffer bytes (the last piece
          // may overshoot by less than a frame); credit goes back in steps of the threshold, so
          // less than one step of what was taken may still be owed.
          const stalled = credit(peer, 1);
          assert.ok(stalled > readBufferBytes - SPDY_WINDOW_UPDATE_THRESHOLD_BYTES, `credit ${stalled} for read-buffer ${readBufferBytes}`);
          assert.ok(stalled < readBufferBytes + DATA_FRAME_BYTES, `credit ${stalled} for read-buffer ${readBufferBytes}`);

          // The app reads: all of the upload is consumed and its credit, up to the last step, returned.
          request.resume();
          await peer.until(() => credit(peer, 1) > WINDOW_BYTES - SPDY_WINDOW_UPDATE_THRESHOLD_BYTES, undefined, `credit for all ${WINDOW_BYTES} bytes`);
          assert.ok(credit(peer, 1) <= WINDOW_BYTES);
        } finally {
          peer.close();
        }
      });
    }
  }
});

describe('read-buffer on h2', () => {
  // A window small next to read-buffer, so that what the client gets to send is mostly what spry held for the app.
  const WINDOW_BYTES = 65_536;
  let server: RunningServer;
  before(async () => {
    server = await startFromCommandLine([
      '--read-buffer', String(GLOBAL_READ_BUFFER_BYTES),
      '--spdy-window', String(WINDOW_BYTES),
      '--https2', 'addr=127.0.0.1:0',
      '--https2', `addr=127.0.0.1:0,read-buffer=${OWN_READ_BUFFER_BYTES}`,
    ]);
  });
  after(() => server.close());

  /** Round trips until the bytes node:http2 has put on the wire stop growing. */
  async function settle(session: ClientHttp2Session, sent: () => number): Promise<number> {
    for (;;) {
      const before = sent();
      // Two PINGs: a PING ACK may leave ahead of a WINDOW_UPDATE queued before it.
      await new Promise<void>((resolve) => session.ping(() => resolve()));
      await new Promise<void>((resolve) => session.ping(() => resolve()));
      if (sent() === before) return before;
    }
  }

  for (const { name, index, readBufferBytes } of LISTENERS) {
    it(`${name} (${readBufferBytes}): an upload to an app that does not read stalls after about one read-buffer and the window, and completes once it reads`, async () => {
      const session = await connectH2(`https://127.0.0.1:${portOf(server, index)}`);
      const tag = newTag();
      try {
        const total = 4 * OWN_READ_BUFFER_BYTES;
        const stream: ClientHttp2Stream = session.request({ ':method': 'POST', ':path': `/hold?tag=${tag}` });
        stream.on('error', () => {});
        const request = await held.next(tag);
        // One write at a time: a write completes once node:http2 has framed all of it onto the
        // socket, which the window allows (writes queued behind it would complete as one batch).
        let sent = 0;
        const chunk = Buffer.alloc(DATA_FRAME_BYTES, 0x62);
        const pump = (): void => {
          if (sent === total) return void stream.end();
          stream.write(chunk, () => {
            sent += chunk.length;
            pump();
          });
        };
        pump();

        const stalled = await settle(session, () => sent);
        // The request's buffer holds read-buffer; behind it the HTTP/2 stream keeps one frame's
        // worth (16 KiB) and up to a window more is in flight, each overshooting by a frame.
        assert.ok(stalled >= readBufferBytes, `sent ${stalled} for read-buffer ${readBufferBytes}`);
        assert.ok(stalled <= readBufferBytes + (16 << 10) + WINDOW_BYTES + 2 * DATA_FRAME_BYTES, `sent ${stalled} for read-buffer ${readBufferBytes}`);

        request.resume();
        const [response] = await once(stream, 'response');
        assert.equal(response[':status'], 200);
        stream.setEncoding('utf8');
        let body = '';
        for await (const text of stream) body += text;
        assert.equal(body, `${total}\n`);
      } finally {
        session.destroy();
      }
    });
  }
});
