// Stream priority (SPDY/3 §2.3.3, SPDY/2 likewise with 0-3): while a more urgent stream has
// DATA it may send, a less urgent one waits; streams of equal priority share frame by frame
// (multiplexing.test.ts). The app writes each whole body at once, so both are queued together.

import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { RawSpdyPeer } from '../helpers/raw-spdy-peer.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const BODY_BYTES = 200_000;
const body = Buffer.alloc(BODY_BYTES, 0x61);

let server: TestServer;
before(async () => {
  server = await startTestServer({
    app: (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BODY_BYTES });
      res.end(body);
    },
  });
});
after(() => server.close());

for (const [alpn, lowest] of [['spdy/2', 3], ['spdy/3', 7], ['spdy/3.1', 7]] as const) {
  describe(`priority on ${alpn}`, () => {
    it('every DATA frame of the urgent stream goes before any of the less urgent one opened first', async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        // Windows large enough that flow control never stops the urgent stream (v2 has none).
        if (alpn !== 'spdy/2') peer.write(peer.settings([{ id: 7, value: 16 << 20 }]));
        if (alpn === 'spdy/3.1') peer.write(peer.windowUpdate(0, 16 << 20));
        const headers = peer.requestHeaders('/');
        // One write: both requests reach the app in the same turn, before anything is sent.
        peer.write(peer.synStream(1, headers, { fin: true, priority: lowest }), peer.synStream(3, headers, { fin: true, priority: 0 }));
        await peer.response(1);
        await peer.response(3);
        const data = peer.frames.filter((frame) => frame.type === 'DATA' && frame.data.length > 0);
        const lastUrgent = data.findLastIndex((frame) => frame.type === 'DATA' && frame.streamId === 3);
        const firstLazy = data.findIndex((frame) => frame.type === 'DATA' && frame.streamId === 1);
        assert.ok(lastUrgent < firstLazy, `stream 3 (priority 0) finished before stream 1 (priority ${lowest}) started: ${peer.describe(60)}`);
        assert.equal(peer.body(1).length, BODY_BYTES);
        assert.equal(peer.body(3).length, BODY_BYTES);
      } finally {
        peer.close();
      }
    });
  });
}
