// Stream errors (docs/spdy-protocol.md §8, §12, §17.8): RST_STREAM with the right status for the one stream, while
// the connection — its other streams, its compression contexts, its windows — carries on.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { testApp } from '../../examples/testapp.ts';
import { RawSpdyPeer, patternBytes, sleep } from '../helpers/raw-spdy-peer.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const PROTOCOL_ERROR = 1;
const INVALID_STREAM = 2;
const REFUSED_STREAM = 3;
const FLOW_CONTROL_ERROR = 7;
const STREAM_ALREADY_CLOSED = 9;
const CANCEL = 5;

const STREAM_WINDOW_BYTES = 65_536;

/** The test app, plus /hold: never reads its body and answers only when the client goes away. */
function app(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/hold') {
    res.on('close', () => {});
    return;
  }
  testApp(req, res);
}

let server: TestServer;
let limited: TestServer;
before(async () => {
  server = await startTestServer({ app, tuning: { initialWindowBytes: STREAM_WINDOW_BYTES } });
  limited = await startTestServer({ tuning: { maxConcurrentStreams: 2 } });
});
after(() => Promise.all([server.close(), limited.close()]));

/** Waits for the RST_STREAM on `id` and checks its status; no GOAWAY, connection open. */
async function expectRst(peer: RawSpdyPeer, id: number, status: number): Promise<void> {
  const rst = await peer.nextOfType('RST_STREAM', id);
  assert.equal(rst.status, status, `RST_STREAM status on stream ${id}`);
  assert.deepEqual(peer.framesOf('GOAWAY'), [], 'a stream error must not end the session');
  assert.equal(peer.isClosed, false);
}

/** A request on `id` over the same connection gets a 200 with the right body. */
async function expectServes(peer: RawSpdyPeer, id: number): Promise<void> {
  peer.write(peer.request(id, '/bytes?n=3000'));
  const response = await peer.response(id);
  assert.equal(response.status, 200);
  assert.ok(response.body.equals(patternBytes(3000)), `body of stream ${id}`);
  assert.deepEqual(peer.framesOf('GOAWAY'), []);
  assert.deepEqual(peer.framesOf('DECODE_ERROR'), []);
}

for (const alpn of ['spdy/2', 'spdy/3', 'spdy/3.1'] as const) {
  describe(`stream errors on ${alpn}`, () => {
    it('a second SYN_STREAM for an open stream id gets RST_STREAM PROTOCOL_ERROR and the stream is dropped', async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        peer.write(peer.request(1, '/slow?ms=300'));
        await sleep(50);
        peer.write(peer.request(1, '/slow?ms=300'));
        await expectRst(peer, 1, PROTOCOL_ERROR);
        await expectServes(peer, 3);
        // The first request on stream 1 was dropped with it: no reply comes later (docs/spdy-protocol.md §8).
        await sleep(400);
        assert.deepEqual(peer.framesOf('SYN_REPLY', 1), [], `stream 1 answered after its RST: ${peer.describe(6)}`);
        assert.equal(peer.framesOf('RST_STREAM', 1).length, 1);
      } finally {
        peer.close();
      }
    });

    it('a SYN_STREAM with an even (server-side) stream id gets RST_STREAM PROTOCOL_ERROR', async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        peer.write(peer.request(2, '/bytes?n=10'));
        await expectRst(peer, 2, PROTOCOL_ERROR);
        assert.deepEqual(peer.framesOf('SYN_REPLY', 2), []);
        await expectServes(peer, 1);
      } finally {
        peer.close();
      }
    });

    it('DATA on a stream that was never opened gets RST_STREAM INVALID_STREAM', async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        peer.write(peer.data(9, 'stray bytes'));
        await expectRst(peer, 9, INVALID_STREAM);
        await expectServes(peer, 11);
      } finally {
        peer.close();
      }
    });

    // STREAM_ALREADY_CLOSED (9) exists from v3 on; v2 defines codes 1-7 only, and answers
    // protocol violations with no more specific code with PROTOCOL_ERROR (as spry does for v2's
    // second SYN_REPLY).
    const afterFinStatus = alpn === 'spdy/2' ? PROTOCOL_ERROR : STREAM_ALREADY_CLOSED;
    it(`DATA after the client's FIN gets RST_STREAM ${alpn === 'spdy/2' ? 'PROTOCOL_ERROR (v2 has no STREAM_ALREADY_CLOSED)' : 'STREAM_ALREADY_CLOSED'}`, async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        peer.write(peer.request(1, '/slow?ms=300', { fin: true }), peer.data(1, 'too late', true));
        await expectRst(peer, 1, afterFinStatus);
        await expectServes(peer, 3);
      } finally {
        peer.close();
      }
    });

    it(`HEADERS after the client's FIN gets RST_STREAM ${alpn === 'spdy/2' ? 'PROTOCOL_ERROR (v2 has no STREAM_ALREADY_CLOSED)' : 'STREAM_ALREADY_CLOSED'}`, async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        peer.write(peer.request(1, '/slow?ms=300', { fin: true }), peer.headers(1, ['x-trailer', 'late']));
        await expectRst(peer, 1, afterFinStatus);
        await expectServes(peer, 3);
      } finally {
        peer.close();
      }
    });

    it('the control frames one read owes go out in the order they were owed, however many (200 RST_STREAMs between two PING echoes)', async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        const ids = Array.from({ length: 200 }, (_, i) => 2 * i + 1);
        peer.write(Buffer.concat([peer.ping(1), ...ids.map((id) => peer.request(id, '/a b')), peer.ping(3)]));
        await peer.nextFrame((frame) => frame.type === 'PING' && frame.id === 3, undefined, 'the echo of PING 3');
        const answers = peer.frames.filter((frame) => frame.type === 'PING' || frame.type === 'RST_STREAM');
        const expected = ['PING 1', ...ids.map((id) => `RST_STREAM ${id} ${PROTOCOL_ERROR}`), 'PING 3'];
        assert.deepEqual(answers.map((frame) => (frame.type === 'PING' ? `PING ${frame.id}` : `RST_STREAM ${frame.streamId} ${frame.status}`)), expected);
        await expectServes(peer, 401);
      } finally {
        peer.close();
      }
    });

    it('a header name with upper-case letters gets RST_STREAM PROTOCOL_ERROR, and the compression contexts stay in step', async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        peer.write(peer.request(1, '/bytes?n=10', { extra: ['X-Upper', 'yes'] }));
        await expectRst(peer, 1, PROTOCOL_ERROR);
        assert.deepEqual(peer.framesOf('SYN_REPLY', 1), []);
        // The next block only inflates if the server inflated the refused one (docs/spdy-protocol.md §5).
        await expectServes(peer, 3);
      } finally {
        peer.close();
      }
    });

    // A read's new streams join the registry only once the read is decoded (stream-registry.ts):
    // frames later in the same read must find them all the same.
    it('a request whose SYN_STREAM, DATA and WINDOW_UPDATE come in one read is served, and a second SYN_STREAM for its id in that read gets RST_STREAM PROTOCOL_ERROR', async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        const body = Buffer.alloc(1000, 7);
        const sha256 = createHash('sha256').update(body).digest('hex');
        const upload = peer.request(1, '/upload?format=json', { method: 'POST', extra: ['content-length', '1000'], fin: false });
        peer.write(Buffer.concat([upload, peer.windowUpdate(1, 1000), peer.request(1, '/'), peer.data(1, body, true)]));
        await expectRst(peer, 1, PROTOCOL_ERROR);
        await expectServes(peer, 3);
        assert.deepEqual(peer.framesOf('SYN_REPLY', 1), [], 'stream 1 was reset with its second SYN_STREAM');
        peer.write(Buffer.concat([peer.request(5, '/upload?format=json', { method: 'POST', extra: ['content-length', '1000'], fin: false }), peer.windowUpdate(5, 1000), peer.data(5, body, true)]));
        const response = await peer.response(5);
        assert.equal(response.status, 200);
        assert.deepEqual(JSON.parse(response.body.toString()), { bytes: 1000, sha256 });
        assert.deepEqual(peer.framesOf('RST_STREAM', 5), []);
      } finally {
        peer.close();
      }
    });

    it('a stream reset in the read that opened it no longer counts against MAX_CONCURRENT_STREAMS, even within that read', async () => {
      const peer = await RawSpdyPeer.connect(limited.port, alpn);
      try {
        await peer.nextOfType('SETTINGS');
        // The limit is 2: 1 is reset at once, so 3 and 5 are the two open ones and only 7 is refused.
        peer.write(Buffer.concat([peer.request(1, '/slow?ms=300'), peer.rst(1, CANCEL), peer.request(3, '/slow?ms=300'), peer.request(5, '/slow?ms=300'), peer.request(7, '/slow?ms=300')]));
        await expectRst(peer, 7, REFUSED_STREAM);
        const [three, five] = await Promise.all([peer.response(3), peer.response(5)]);
        assert.equal(three.body.toString(), 'slow done\n');
        assert.equal(five.body.toString(), 'slow done\n');
        assert.deepEqual(peer.framesOf('SYN_REPLY', 1), []);
        assert.deepEqual(peer.framesOf('RST_STREAM').map((frame) => frame.streamId), [7]);
      } finally {
        peer.close();
      }
    });

    it('more concurrent streams than MAX_CONCURRENT_STREAMS: the extra one gets RST_STREAM REFUSED_STREAM, the accepted ones complete', async () => {
      const peer = await RawSpdyPeer.connect(limited.port, alpn);
      try {
        const settings = await peer.nextOfType('SETTINGS');
        assert.equal(settings.entries.find((entry) => entry.id === 4)?.value, 2);
        peer.write(peer.request(1, '/slow?ms=400'), peer.request(3, '/slow?ms=400'), peer.request(5, '/slow?ms=400'));
        await expectRst(peer, 5, REFUSED_STREAM);
        const [first, second] = await Promise.all([peer.response(1), peer.response(3)]);
        for (const response of [first, second]) {
          assert.equal(response.status, 200);
          assert.equal(response.body.toString(), 'slow done\n');
        }
        const rst = peer.framesOf('RST_STREAM', 5)[0];
        const firstReply = peer.framesOf('SYN_REPLY', 1)[0];
        assert.ok(rst.seq < firstReply.seq, 'the extra stream was refused at once, not after the others finished');
        assert.deepEqual(peer.framesOf('SYN_REPLY', 5), []);
        // With the first two done, a new stream is accepted again.
        await expectServes(peer, 7);
      } finally {
        peer.close();
      }
    });

    if (alpn !== 'spdy/2') {
      it('a WINDOW_UPDATE pushing a stream window past 2^31-1 gets RST_STREAM FLOW_CONTROL_ERROR', async () => {
        const peer = await RawSpdyPeer.connect(server.port, alpn);
        try {
          peer.write(peer.request(1, '/slow?ms=300'));
          await sleep(50);
          peer.write(peer.windowUpdate(1, 0x7fff_ffff));
          await expectRst(peer, 1, FLOW_CONTROL_ERROR);
          await expectServes(peer, 3);
          await sleep(350);
          assert.deepEqual(peer.framesOf('SYN_REPLY', 1), []);
        } finally {
          peer.close();
        }
      });

      it('a WINDOW_UPDATE that takes a stream window exactly to 2^31-1 is accepted', async () => {
        const peer = await RawSpdyPeer.connect(server.port, alpn);
        try {
          peer.write(peer.request(1, '/slow?ms=100'));
          await sleep(30);
          peer.write(peer.windowUpdate(1, 0x7fff_ffff - 65_536));
          const response = await peer.response(1);
          assert.equal(response.status, 200);
          assert.deepEqual(peer.framesOf('RST_STREAM'), []);
        } finally {
          peer.close();
        }
      });

      it('DATA beyond the stream window the server announced gets RST_STREAM FLOW_CONTROL_ERROR', async () => {
        const peer = await RawSpdyPeer.connect(server.port, alpn);
        try {
          // /hold never reads its body: once the app's buffer is full the server stops
          // reopening the window. Fill whatever window it grants until it grants no more.
          peer.write(peer.request(1, '/hold', { method: 'POST', fin: false }));
          let sent = 0;
          for (let round = 0; round < 10; round++) {
            const granted = STREAM_WINDOW_BYTES + peer.framesOf('WINDOW_UPDATE', 1).reduce((sum, frame) => sum + frame.delta, 0);
            if (granted === sent) break;
            peer.write(peer.data(1, Buffer.alloc(granted - sent, 1)));
            sent = granted;
            await sleep(150);
          }
          assert.equal(STREAM_WINDOW_BYTES + peer.framesOf('WINDOW_UPDATE', 1).reduce((sum, frame) => sum + frame.delta, 0), sent, 'the window never settled');
          assert.deepEqual(peer.framesOf('RST_STREAM'), [], 'a full window is not an overflow');
          peer.write(peer.data(1, Buffer.alloc(1, 1)));
          await expectRst(peer, 1, FLOW_CONTROL_ERROR);
          await expectServes(peer, 3);
        } finally {
          peer.close();
        }
      });
    }
  });
}
