// SPDY server push (docs/spdy-protocol.md §10), watched frame by frame through the raw peer on spdy/2,
// spdy/3 and spdy/3.1: which resources are pushed, how each push is framed and ordered, the
// client's SETTINGS_MAX_CONCURRENT_STREAMS bound, cancelling pushes with RST_STREAM, and the
// once-per-connection rule. Real TLS sockets to an in-process spry listener.
//
// Waiting for "no push" is never a sleep: a push is queued before the SYN_REPLY of the response
// that names it, so once that response has arrived, every push it was going to get has too.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RstStatus, SettingsId } from '../../src/spdy/constants.ts';
import type { SpdyAlpn } from '../../src/spdy/versions.ts';
import { HOLD_FIRST_CHUNK, PAGE_BODY, abandonedHolds } from '../fixtures/push-app.ts';
import { RawSpdyPeer, eventually, header, type FrameOf, type PeerResponse } from '../helpers/raw-spdy-peer.ts';
import type { TestServer } from '../helpers/server.ts';
import { CACHED, linkPath, preload, startPushServer } from './push-setup.ts';

const VERSIONS: readonly SpdyAlpn[] = ['spdy/2', 'spdy/3', 'spdy/3.1'];
/** The window the RST tests give every stream: far less than /big.bin, so its push stalls. */
const SMALL_WINDOW_BYTES = 4096;

let server: TestServer;
let noPushServer: TestServer;
before(async () => {
  [server, noPushServer] = await Promise.all([startPushServer(), startPushServer({ push: false })]);
});
after(() => Promise.all([server.close(), noPushServer.close()]));

async function connect(alpn: SpdyAlpn, port = server.port): Promise<RawSpdyPeer> {
  return RawSpdyPeer.connect(port, alpn);
}

/** The pushes (server SYN_STREAMs) received so far. */
function pushes(peer: RawSpdyPeer): FrameOf<'SYN_STREAM'>[] {
  return peer.framesOf('SYN_STREAM');
}

/** The path a push names: :path on v3, the path of the absolute `url` on v2. */
function pushedPath(peer: RawSpdyPeer, push: FrameOf<'SYN_STREAM'>): string {
  const value = header(push.headers, peer.version.headers.path) ?? '';
  return peer.version.urlIsAbsolute ? new URL(value).pathname : value;
}

/** The whole body of a push, once its DATA with FIN has arrived. */
async function pushBody(peer: RawSpdyPeer, streamId: number): Promise<Buffer> {
  await peer.until(() => peer.framesOf('DATA', streamId).some((frame) => frame.fin), undefined, `the FIN of push ${streamId}`);
  return peer.body(streamId);
}

/** GET `path` on stream `id` and collect the response. */
async function get(peer: RawSpdyPeer, id: number, path: string, options: { method?: string } = {}): Promise<PeerResponse> {
  peer.write(peer.request(id, path, options));
  return peer.response(id);
}

/**
 * WINDOW_UPDATEs that would let push `streamId` send all the rest of its body (on spdy/3.1 the
 * session window too, which would otherwise stall everything after 64 KiB): sent after a cancel,
 * they make a push that was not stopped visible.
 */
function reopen(peer: RawSpdyPeer, streamId: number): Buffer {
  const stream = peer.windowUpdate(streamId, 1 << 20);
  return peer.version.flowControl === 'stream-and-session' ? Buffer.concat([stream, peer.windowUpdate(0, 1 << 20)]) : stream;
}

/**
 * A request on stream `id` answered in full. The session sends DATA round robin in the order
 * streams became ready, so a push still alive after what we sent earlier (a WINDOW_UPDATE that
 * reopened it) puts DATA on the wire before this response's FIN.
 */
async function barrier(peer: RawSpdyPeer, id: number): Promise<void> {
  const response = await get(peer, id, '/link');
  assert.equal(response.body.toString(), 'links: 0\n');
}

for (const alpn of VERSIONS) {
  describe(`${alpn} push`, () => {
    it('pushes exactly the two cached resources a page links to, not the uncached one', async () => {
      const peer = await connect(alpn);
      try {
        const page = await get(peer, 1, '/page');
        assert.equal(page.status, 200);
        assert.equal(page.body.toString(), PAGE_BODY);
        assert.deepEqual(pushes(peer).map((push) => pushedPath(peer, push)), ['/style.css', '/app.js']);
      } finally {
        peer.close();
      }
    });

    it('opens each push with an even-id, UNIDIRECTIONAL SYN_STREAM associated to the request, before its SYN_REPLY', async () => {
      const peer = await connect(alpn);
      try {
        await get(peer, 1, '/page');
        const reply = peer.framesOf('SYN_REPLY', 1)[0];
        const found = pushes(peer);
        assert.equal(found.length, 2);
        for (const push of found) {
          assert.equal(push.streamId % 2, 0, `push stream id ${push.streamId} is even`);
          assert.equal(push.unidirectional, true);
          assert.equal(push.associatedStreamId, 1);
          assert.equal(push.fin, false, 'the body follows in DATA');
          assert.ok(push.seq < reply.seq, `push ${push.streamId} arrived before the SYN_REPLY: ${peer.describe()}`);
        }
        assert.ok(found[0].streamId < found[1].streamId, 'push ids increase');
      } finally {
        peer.close();
      }
    });

    it(`names the pushed resource with ${alpn === 'spdy/2' ? 'an absolute url' : ':scheme, :host and :path'} and carries the response head`, async () => {
      const peer = await connect(alpn);
      try {
        await get(peer, 1, '/page');
        const [style] = pushes(peer);
        const names = style.headers.filter((_, i) => i % 2 === 0);
        if (alpn === 'spdy/2') {
          assert.deepEqual([...names].sort(), ['content-length', 'content-type', 'status', 'url', 'version']);
          assert.equal(header(style.headers, 'url'), 'https://localhost/style.css');
          assert.equal(header(style.headers, 'status'), '200 OK');
          assert.equal(header(style.headers, 'version'), 'HTTP/1.1');
        } else {
          assert.deepEqual([...names].sort(), [':host', ':path', ':scheme', ':status', ':version', 'content-length', 'content-type']);
          assert.equal(header(style.headers, ':scheme'), 'https');
          assert.equal(header(style.headers, ':host'), 'localhost');
          assert.equal(header(style.headers, ':path'), '/style.css');
          assert.equal(header(style.headers, ':status'), '200 OK');
          assert.equal(header(style.headers, ':version'), 'HTTP/1.1');
        }
        assert.equal(header(style.headers, 'content-type'), CACHED['/style.css'].contentType);
        assert.equal(header(style.headers, 'content-length'), String(CACHED['/style.css'].body.length));
      } finally {
        peer.close();
      }
    });

    it('pushes the cached bytes with the cached content type, each push ending with FIN', async () => {
      const peer = await connect(alpn);
      try {
        await get(peer, 1, '/page');
        for (const push of pushes(peer)) {
          const path = pushedPath(peer, push);
          assert.deepEqual(await pushBody(peer, push.streamId), CACHED[path].body, `bytes of ${path}`);
          assert.equal(header(push.headers, 'content-type'), CACHED[path].contentType, `content type of ${path}`);
        }
      } finally {
        peer.close();
      }
    });

    it('pushes nothing when every linked resource is uncached', async () => {
      const peer = await connect(alpn);
      try {
        const response = await get(peer, 1, linkPath(preload('/missing.png'), preload('/also-missing.css')));
        assert.equal(response.status, 200);
        assert.deepEqual(pushes(peer), []);
      } finally {
        peer.close();
      }
    });

    it('pushes nothing with push=0', async () => {
      const peer = await connect(alpn, noPushServer.port);
      try {
        const page = await get(peer, 1, '/page');
        assert.equal(page.status, 200);
        assert.match(header(page.headers, 'link') ?? '', /<\/style\.css>; rel=preload/, 'the page still names its resources');
        assert.deepEqual(pushes(peer), []);
      } finally {
        peer.close();
      }
    });

    it('pushes nothing for a HEAD request', async () => {
      const peer = await connect(alpn);
      try {
        const page = await get(peer, 1, '/page', { method: 'HEAD' });
        assert.equal(page.status, 200);
        assert.match(header(page.headers, 'link') ?? '', /<\/style\.css>; rel=preload/);
        assert.deepEqual(pushes(peer), []);
        // The paths were not spent on the HEAD: a GET on the same connection gets them.
        await get(peer, 3, '/page');
        assert.deepEqual(pushes(peer).map((push) => pushedPath(peer, push)), ['/style.css', '/app.js']);
      } finally {
        peer.close();
      }
    });

    it('pushes nothing with a 204 or 304 response', async () => {
      const peer = await connect(alpn);
      try {
        for (const [id, status] of [[1, 204], [3, 304]] as const) {
          const response = await get(peer, id, `${linkPath(preload('/style.css'))}&status=${status}`);
          assert.equal(response.status, status);
        }
        assert.deepEqual(pushes(peer), []);
      } finally {
        peer.close();
      }
    });

    it('pushes each path once per connection: a second request for the page gets no pushes, a new connection does', async () => {
      const peer = await connect(alpn);
      try {
        await get(peer, 1, '/page');
        const second = await get(peer, 3, '/page');
        assert.equal(second.body.toString(), PAGE_BODY);
        // A page linking one pushed and one new resource gets only the new one.
        await get(peer, 5, linkPath(preload('/app.js'), preload('/big.bin')));
        assert.deepEqual(
          pushes(peer).map((push) => [push.associatedStreamId, pushedPath(peer, push)]),
          [[1, '/style.css'], [1, '/app.js'], [5, '/big.bin']],
        );
      } finally {
        peer.close();
      }
      const fresh = await connect(alpn);
      try {
        await get(fresh, 1, '/page');
        assert.deepEqual(pushes(fresh).map((push) => pushedPath(fresh, push)), ['/style.css', '/app.js']);
      } finally {
        fresh.close();
      }
    });

    it('with the client\'s MAX_CONCURRENT_STREAMS=1 keeps one push open at a time: the second waits for a later response', async () => {
      const peer = await connect(alpn);
      try {
        peer.write(peer.settings([{ id: SettingsId.MAX_CONCURRENT_STREAMS, value: 1 }]));
        await get(peer, 1, '/page');
        const first = pushes(peer);
        assert.deepEqual(first.map((push) => pushedPath(peer, push)), ['/style.css'], 'only one push while the first is open');
        assert.deepEqual(await pushBody(peer, first[0].streamId), CACHED['/style.css'].body);
        // The first push has ended: a later response may push the resource that did not fit.
        await get(peer, 3, '/page');
        assert.deepEqual(pushes(peer).map((push) => [push.associatedStreamId, pushedPath(peer, push)]), [[1, '/style.css'], [3, '/app.js']]);
      } finally {
        peer.close();
      }
    });

    it('with the client\'s MAX_CONCURRENT_STREAMS=0 pushes nothing', async () => {
      const peer = await connect(alpn);
      try {
        peer.write(peer.settings([{ id: SettingsId.MAX_CONCURRENT_STREAMS, value: 0 }]));
        const page = await get(peer, 1, '/page');
        assert.equal(page.body.toString(), PAGE_BODY);
        await get(peer, 3, linkPath(preload('/big.bin')));
        assert.deepEqual(pushes(peer), []);
      } finally {
        peer.close();
      }
    });

    it('stops a push the client cancels with RST_STREAM; the main response still arrives whole and the session goes on', async () => {
      const peer = await connect(alpn);
      try {
        // A small window (announced on v2 too, which spry then honours) stalls /big.bin's push
        // after SMALL_WINDOW_BYTES: whatever else it sends, the RST alone must have stopped.
        peer.write(peer.settings([{ id: SettingsId.INITIAL_WINDOW_SIZE, value: SMALL_WINDOW_BYTES }]), peer.request(1, linkPath(preload('/big.bin'))));
        const push = await peer.nextOfType('SYN_STREAM');
        peer.write(peer.rst(push.streamId, RstStatus.CANCEL), reopen(peer, push.streamId));
        const page = await peer.response(1);
        assert.equal(page.status, 200);
        assert.equal(page.body.toString(), 'links: 1\n');
        await barrier(peer, 3);
        // Bytes sent before the RST arrived may be there; nothing past the window, and no FIN.
        assert.ok(peer.dataBytes(push.streamId) <= SMALL_WINDOW_BYTES, `push DATA after the RST: ${peer.describe()}`);
        assert.equal(peer.framesOf('DATA', push.streamId).some((frame) => frame.fin), false);
        assert.deepEqual(peer.framesOf('RST_STREAM'), [], 'the server answers a RST with nothing');
        assert.deepEqual(peer.framesOf('GOAWAY'), []);
        // The session carries on.
        const next = await get(peer, 5, '/page');
        assert.equal(next.body.toString(), PAGE_BODY);
      } finally {
        peer.close();
      }
    });

    it('ends every push of a request whose stream the client cancels while its response is open', async () => {
      const peer = await connect(alpn);
      try {
        const path = linkPath(preload('/big.bin'), preload('/style.css')).replace('/link', '/hold');
        peer.write(peer.settings([{ id: SettingsId.INITIAL_WINDOW_SIZE, value: SMALL_WINDOW_BYTES }]), peer.request(1, path));
        await peer.until(() => peer.framesOf('DATA', 1).length > 0, undefined, 'the first chunk of /hold');
        assert.equal(peer.body(1).toString(), HOLD_FIRST_CHUNK);
        const [big] = pushes(peer);
        assert.equal(pushedPath(peer, big), '/big.bin');
        peer.write(peer.rst(1, RstStatus.CANCEL), reopen(peer, big.streamId));
        await barrier(peer, 3);
        assert.ok(peer.dataBytes(big.streamId) <= SMALL_WINDOW_BYTES, `push DATA after the RST of its request: ${peer.describe()}`);
        assert.equal(peer.framesOf('DATA', big.streamId).some((frame) => frame.fin), false);
        await eventually(() => abandonedHolds.includes(path), undefined, 'the app to see its request abandoned');
        assert.deepEqual(peer.framesOf('GOAWAY'), []);
        const next = await get(peer, 5, linkPath(preload('/app.js')));
        assert.equal(next.status, 200);
        assert.equal(pushedPath(peer, pushes(peer).at(-1)!), '/app.js');
      } finally {
        peer.close();
      }
    });

    // Pushes usually outlive the response that named them: a cancel of the request still reaches them.
    it('ends every push of a request whose stream the client cancels after its response ended', async () => {
      const peer = await connect(alpn);
      try {
        peer.write(peer.settings([{ id: SettingsId.INITIAL_WINDOW_SIZE, value: SMALL_WINDOW_BYTES }]), peer.request(1, linkPath(preload('/big.bin'))));
        const page = await peer.response(1);
        assert.equal(page.status, 200);
        const [big] = pushes(peer);
        peer.write(peer.rst(1, RstStatus.CANCEL), reopen(peer, big.streamId));
        await barrier(peer, 3);
        assert.ok(peer.dataBytes(big.streamId) <= SMALL_WINDOW_BYTES, `push DATA after the RST of its request: ${peer.describe()}`);
        assert.equal(peer.framesOf('DATA', big.streamId).some((frame) => frame.fin), false);
      } finally {
        peer.close();
      }
    });
  });
}
