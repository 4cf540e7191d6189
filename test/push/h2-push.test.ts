// HTTP/2 server push: PUSH_PROMISEs for the cached resources a response links to with
// rel=preload, seen by nghttp (Debian's nghttp2-client) and by node:http2, over TLS on the
// --https2 port and over h2c (prior knowledge) on an --http listener. Real sockets to in-process
// spry listeners.
//
// "No push" needs no sleep: spry promises pushes before it sends the response's HEADERS, so once
// the response has ended every PUSH_PROMISE it was going to get has arrived.

import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { constants as http2Constants } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { appFromExport } from '../../src/apps/load-module.ts';
import { DEFAULTS } from '../../src/config/config.ts';
import type { Listener } from '../../src/listen/connection-handler.ts';
import { httpPlan, startListener } from '../../src/listen/handlers.ts';
import pushApp, { PAGE_BODY, PAGE_LINK } from '../fixtures/push-app.ts';
import type { TestServer } from '../helpers/server.ts';
import { NGHTTP } from '../tools/tools.ts';
import { connectH2, nghttp, type H2Frame, type PushCollectingSession } from './h2-clients.ts';
import { CACHED, installPushCaches, linkPath, preload, startPushServer } from './push-setup.ts';

let server: TestServer;
let noPushServer: TestServer;
let otherCacheServer: TestServer;
let h2c: Listener;
let tls: string;
let plain: string;

before(async () => {
  installPushCaches();
  [server, noPushServer, otherCacheServer, h2c] = await Promise.all([
    startPushServer(),
    startPushServer({ push: false }),
    startPushServer({ pushCache: 'other' }),
    startListener(httpPlan({ source: '127.0.0.1:0', addr: { kind: 'tcp', host: '127.0.0.1', port: 0 } }, DEFAULTS.tuning), appFromExport(pushApp, 'push-app'), DEFAULTS.httpTimeoutMs),
  ]);
  tls = `https://127.0.0.1:${server.port}`;
  plain = `http://127.0.0.1:${(h2c.address as AddressInfo).port}`;
});
after(() => Promise.all([server.close(), noPushServer.close(), otherCacheServer.close(), h2c.close()]));

/** The PUSH_PROMISE frames spry sent on a session (whether or not node:http2 took them). */
function promises(client: PushCollectingSession): H2Frame[] {
  return client.frames.filter((frame) => frame.type === 'PUSH_PROMISE');
}

/** Runs `body` with a node:http2 session to `url`, closing it after. */
async function withSession<T>(url: string, options: Parameters<typeof connectH2>[1], body: (client: PushCollectingSession) => Promise<T>): Promise<T> {
  const client = await connectH2(url, options);
  try {
    return await body(client);
  } finally {
    client.close();
  }
}

describe('h2 push seen by nghttp', { skip: NGHTTP.skip }, () => {
  it('gets a PUSH_PROMISE for each cached resource the page links to, and none for the uncached one', async () => {
    const run = await nghttp(`${tls}/page`);
    assert.equal(run.status, 200, run.output);
    assert.deepEqual(run.promised, ['/style.css', '/app.js'], run.output);
    assert.deepEqual([...run.pushedRows].sort(), ['200 /app.js', '200 /style.css'], run.output);
  });

  it('gets no PUSH_PROMISE for a page linking only uncached resources', async () => {
    const run = await nghttp(`${tls}${linkPath(preload('/missing.png'), preload('/nope.css'))}`);
    assert.equal(run.status, 200, run.output);
    assert.deepEqual(run.promised, [], run.output);
  });

  it('with --no-push sends SETTINGS_ENABLE_PUSH=0 and gets no PUSH_PROMISE', async () => {
    const run = await nghttp(`${tls}/page`, ['--no-push']);
    assert.ok(run.sentSettings.includes('SETTINGS_ENABLE_PUSH(0x02):0'), run.output);
    assert.equal(run.status, 200, run.output);
    assert.deepEqual(run.promised, [], run.output);
  });

  it('with --max-concurrent-streams=1 gets one push at a time: one for the page', async () => {
    const run = await nghttp(`${tls}/page`, ['--max-concurrent-streams=1']);
    assert.ok(run.sentSettings.includes('SETTINGS_MAX_CONCURRENT_STREAMS(0x03):1'), run.output);
    assert.deepEqual(run.promised, ['/style.css'], run.output);
  });

  it('gets no PUSH_PROMISE from a listener with push=0', async () => {
    const run = await nghttp(`https://127.0.0.1:${noPushServer.port}/page`);
    assert.equal(run.status, 200, run.output);
    assert.deepEqual(run.promised, [], run.output);
  });
});

describe('h2 push seen by node:http2', () => {
  it('pushes the cached bytes with the cached content type and length, promised as GETs on the page\'s origin', async () => {
    await withSession(tls, {}, async (client) => {
      const page = await client.get('/page');
      assert.equal(page.status, 200);
      assert.equal(page.body.toString(), PAGE_BODY);
      assert.equal(page.headers.link, PAGE_LINK);
      assert.deepEqual(client.pushes.map((push) => push.path), ['/style.css', '/app.js']);
      // Both PUSH_PROMISEs, on the request's stream, before the HEADERS that carry the Link header.
      const onRequest = client.frames.filter((frame) => frame.streamId === 1 && (frame.type === 'PUSH_PROMISE' || frame.type === 'HEADERS'));
      assert.deepEqual(onRequest.map((frame) => [frame.type, frame.promisedStreamId]), [['PUSH_PROMISE', 2], ['PUSH_PROMISE', 4], ['HEADERS', undefined]]);
      for (const push of client.pushes) {
        assert.equal(push.method, 'GET');
        assert.equal(push.scheme, 'https');
        assert.equal(push.authority, `127.0.0.1:${server.port}`);
        const pushed = await push.response;
        assert.equal(pushed.status, 200);
        assert.deepEqual(pushed.body, CACHED[push.path].body, `bytes of ${push.path}`);
        assert.equal(pushed.headers['content-type'], CACHED[push.path].contentType);
        assert.equal(pushed.headers['content-length'], String(CACHED[push.path].body.length));
      }
    });
  });

  it('sends no PUSH_PROMISE to a client that set enablePush: false', async () => {
    await withSession(tls, { settings: { enablePush: false } }, async (client) => {
      const page = await client.get('/page');
      assert.equal(page.status, 200);
      assert.equal(page.headers.link, PAGE_LINK, 'the page still names its resources');
      assert.deepEqual(promises(client), []);
      assert.deepEqual(client.pushes, []);
    });
  });

  // node:http2 counts its own open requests against the maxConcurrentStreams it announces, and
  // refuses (RST_STREAM ENHANCE_YOUR_CALM) a push that RFC 9113 §5.1.2 allows: so the bound is
  // read on the wire, from the PUSH_PROMISE frames spry sent.
  it('promises no more pushes than the client\'s maxConcurrentStreams=1 lets it keep open', async () => {
    await withSession(tls, { settings: { maxConcurrentStreams: 1 } }, async (client) => {
      const page = await client.get('/page');
      assert.equal(page.body.toString(), PAGE_BODY);
      assert.equal(promises(client).length, 1, `one PUSH_PROMISE: ${JSON.stringify(client.frames)}`);
    });
  });

  it('pushes nothing to a client whose maxConcurrentStreams is 0', async () => {
    await withSession(tls, { settings: { maxConcurrentStreams: 0 } }, async (client) => {
      const page = await client.get('/page');
      assert.equal(page.body.toString(), PAGE_BODY);
      assert.deepEqual(promises(client), []);
    });
  });

  it('pushes nothing for a HEAD request', async () => {
    await withSession(tls, {}, async (client) => {
      const page = await client.get('/page', 'HEAD');
      assert.equal(page.status, 200);
      assert.equal(page.headers.link, PAGE_LINK);
      assert.deepEqual(promises(client), []);
    });
  });

  it('pushes each path once per connection', async () => {
    await withSession(tls, {}, async (client) => {
      await client.get('/page');
      await client.get('/page');
      await client.get(linkPath(preload('/style.css'), preload('/big.bin')));
      assert.deepEqual(client.pushes.map((push) => push.path), ['/style.css', '/app.js', '/big.bin']);
    });
  });

  it('still delivers the main response whole when the client resets every push as it is promised', async () => {
    await withSession(tls, {}, async (client) => {
      client.session.on('stream', (stream) => stream.close(http2Constants.NGHTTP2_CANCEL));
      const page = await client.get(linkPath(preload('/big.bin'), preload('/style.css')));
      assert.equal(page.status, 200);
      assert.equal(page.body.toString(), 'links: 2\n');
      assert.deepEqual(client.pushes.map((push) => push.path), ['/big.bin', '/style.css']);
      const next = await client.get('/page');
      assert.equal(next.body.toString(), PAGE_BODY, 'the session goes on');
    });
  });

  it('pushes from the push-cache= cache only', async () => {
    await withSession(`https://127.0.0.1:${otherCacheServer.port}`, {}, async (client) => {
      await client.get(linkPath(preload('/style.css'), preload('/other.css')));
      assert.deepEqual(client.pushes.map((push) => push.path), ['/other.css']);
      assert.equal((await client.pushes[0].response).body.toString(), 'p{}');
    });
  });
});

describe('h2c push on an --http listener', () => {
  it('nghttp with an http:// URL (prior knowledge) gets a PUSH_PROMISE for each cached resource', { skip: NGHTTP.skip }, async () => {
    const run = await nghttp(`${plain}/page`);
    assert.equal(run.status, 200, run.output);
    assert.deepEqual(run.promised, ['/style.css', '/app.js'], run.output);
  });

  it('node:http2 over h2c gets the cached bytes, promised with scheme http', async () => {
    await withSession(plain, {}, async (client) => {
      await client.get('/page');
      assert.deepEqual(client.pushes.map((push) => push.path), ['/style.css', '/app.js']);
      for (const push of client.pushes) {
        assert.equal(push.scheme, 'http');
        assert.deepEqual((await push.response).body, CACHED[push.path].body);
      }
    });
  });

  it('sends no PUSH_PROMISE over h2c to nghttp --no-push', { skip: NGHTTP.skip }, async () => {
    const run = await nghttp(`${plain}/page`, ['--no-push']);
    assert.equal(run.status, 200, run.output);
    assert.deepEqual(run.promised, [], run.output);
  });
});
