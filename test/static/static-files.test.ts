// Static files served by spry itself (--static-map and friends) over h2, spdy/3.1 and HTTP/1.1,
// from a real spry process: the bytes, the type and validators, ranges, 304s, HEAD, the index
// file, skipped extensions, and a list of ways out of the directory that must all fail.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectClient, headerValue, type ClientResponse, type HeaderPairs, type ProtocolClient, type ProtocolName } from '../helpers/protocol-clients.ts';
import { startSpry, TEST_APP_ARGS, type SpryProcess } from '../helpers/spry-process.ts';
import { makeStaticSite, type StaticSite } from './static-site.ts';

const PROTOCOLS: readonly ProtocolName[] = ['h2', 'spdy/3.1', 'http/1.1'];

/** Each must end in a refusal or a miss: never the secret, never a 200. */
export const ESCAPES: readonly string[] = [
  '/s/../secret.txt',
  '/s/%2e%2e/secret.txt',
  '/s/%2E%2E/secret.txt',
  '/s/.%2e/secret.txt',
  '/s/%2e./secret.txt',
  '/s/..%2fsecret.txt',
  '/s/..%2Fsecret.txt',
  '/s/%2e%2e%2fsecret.txt',
  '/s/..%5csecret.txt',
  '/s/..%5Csecret.txt',
  '/s/%c0%ae%c0%ae/secret.txt',
  '/s/%252e%252e/secret.txt',
  '/s/docs/../../secret.txt',
  '/s/./../secret.txt',
  '/s/style.css%00.txt',
  '/s/%00',
  '/s/escape.txt',
  '/s/up/secret.txt',
  '/s/%2e%2e%5csecret.txt',
  '/s/docs/%2e%2e/%2e%2e/secret.txt',
  '/s/docs/up/secret.txt',
  '/s/docs-link/up/secret.txt',
];

// Every case twice: looked up afresh each time, and through the open-file cache (hits and misses).
for (const cached of [false, true]) {
  describe(`static files${cached ? ' through --static-cache-paths' : ''}`, () => {
    let site: StaticSite;
    let spry: SpryProcess;

    before(async () => {
      site = makeStaticSite();
      spry = await startSpry([
        '--https2', 'addr=127.0.0.1:0,spdy=1', ...TEST_APP_ARGS,
        '--static-map', `/s=${site.root}`, '--static-index', 'index.html', '--static-skip-ext', '.php',
        '--static-expires-type', 'text/css=3600', ...(cached ? ['--static-cache-paths', '60'] : []),
      ]);
    });
    after(async () => {
      await spry?.stop();
      site?.remove();
    });

    for (const protocol of PROTOCOLS) {
      describe(`over ${protocol}`, () => {
        let client: ProtocolClient;
        before(async () => {
          client = await connectClient(protocol, spry.listener('https'));
        });
        after(() => client?.close());
        const get = (path: string, headers: HeaderPairs = [], method = 'GET') => client.request({ path, headers, method });

        it('serves a mapped file byte for byte, with its type, length, ETag and Last-Modified', async () => {
          const css = await get('/s/style.css');
          assert.equal(css.status, 200);
          assert.deepEqual(css.body, site.files.css);
          assert.equal(headerValue(css.headers, 'content-type'), 'text/css; charset=utf-8');
          assert.equal(headerValue(css.headers, 'content-length'), String(site.files.css.length));
          assert.match(headerValue(css.headers, 'etag') ?? '', /^"[0-9a-f]+-[0-9a-f]+"$/);
          assert.ok(!Number.isNaN(Date.parse(headerValue(css.headers, 'last-modified') ?? '')));
          assert.equal(headerValue(css.headers, 'cache-control'), 'max-age=3600');
          const bin = await get('/s/blob.bin');
          assert.equal(headerValue(bin.headers, 'content-type'), 'application/octet-stream');
          assert.ok(bin.body.equals(site.files.bin));
          assert.equal(headerValue(bin.headers, 'cache-control'), undefined, 'the expires rule is for text/css only');
        });

        it('serves the index file for a directory, and leaves a missing file to the app', async () => {
          const index = await get('/s/docs/');
          assert.equal(index.status, 200);
          assert.deepEqual(index.body, site.files.index);
          assert.equal(headerValue(index.headers, 'content-type'), 'text/html; charset=utf-8');
          const missing = await get('/s/nothing-here.css');
          assert.equal(missing.status, 404);
          assert.match(missing.body.toString(), /No route for/, 'the test app answered');
        });

        it('leaves a skipped extension to the app', async () => {
          const php = await get('/s/page.php');
          assert.equal(php.status, 404);
          assert.doesNotMatch(php.body.toString(), /<\?php/);
        });

        it('answers one range with 206, a suffix range, and an unsatisfiable one with 416', async () => {
          const part = await get('/s/blob.bin', [['range', 'bytes=1000-1999']]);
          assert.equal(part.status, 206);
          assert.equal(headerValue(part.headers, 'content-range'), `bytes 1000-1999/${site.files.bin.length}`);
          assert.ok(part.body.equals(site.files.bin.subarray(1000, 2000)));
          const tail = await get('/s/blob.bin', [['range', 'bytes=-10']]);
          assert.equal(tail.status, 206);
          assert.ok(tail.body.equals(site.files.bin.subarray(-10)));
          const beyond = await get('/s/blob.bin', [['range', `bytes=${site.files.bin.length}-`]]);
          assert.equal(beyond.status, 416);
          assert.equal(headerValue(beyond.headers, 'content-range'), `bytes */${site.files.bin.length}`);
          assert.equal(beyond.body.length, 0);
        });

        it('serves many small files at once, each with its own bytes', async () => {
          const responses = await Promise.all(site.many.map((_, i) => get(`/s/many/${i}.bin`)));
          responses.forEach((response, i) => assert.ok(response.body.equals(site.many[i]), `file ${i}`));
          const again = await Promise.all(site.many.map((_, i) => get(`/s/many/${i}.bin`)));
          again.forEach((response, i) => assert.ok(response.body.equals(site.many[i]), `file ${i}, asked again`));
        });

        it('answers several ranges with the whole file', async () => {
          const whole = await get('/s/blob.bin', [['range', 'bytes=0-1,5-6']]);
          assert.equal(whole.status, 200);
          assert.equal(whole.body.length, site.files.bin.length);
        });

        it('answers 304 to a matching If-None-Match or a later If-Modified-Since, and 200 otherwise', async () => {
          const first = await get('/s/style.css');
          const etag = headerValue(first.headers, 'etag')!;
          const lastModified = headerValue(first.headers, 'last-modified')!;
          const byEtag = await get('/s/style.css', [['if-none-match', `"other", ${etag}`]]);
          assert.equal(byEtag.status, 304);
          assert.equal(byEtag.body.length, 0);
          assert.equal(headerValue(byEtag.headers, 'etag'), etag);
          const byDate = await get('/s/style.css', [['if-modified-since', lastModified]]);
          assert.equal(byDate.status, 304);
          const stale = await get('/s/style.css', [['if-none-match', '"other"']]);
          assert.equal(stale.status, 200);
          const older = await get('/s/style.css', [['if-modified-since', new Date(Date.parse(lastModified) - 10_000).toUTCString()]]);
          assert.equal(older.status, 200);
          assert.deepEqual(older.body, site.files.css);
        });

        it('answers HEAD with the headers of GET and no body', async () => {
          const head = await get('/s/blob.bin', [], 'HEAD');
          assert.equal(head.status, 200);
          assert.equal(head.body.length, 0);
          assert.equal(headerValue(head.headers, 'content-length'), String(site.files.bin.length));
        });

        it(`never serves a file outside the root (${ESCAPES.length} ways out)`, async () => {
          for (const path of ESCAPES) {
            const outcome = await refusalOf(get(path));
            assert.ok(outcome === 'reset' || [400, 403, 404].includes(outcome.status), `${path}: ${outcome === 'reset' ? '' : outcome.status}`);
            if (outcome !== 'reset') assert.ok(!outcome.body.includes(site.secret), `${path} leaked the secret`);
          }
        });

        it('refuses dot segments and symlinks out of the root with 403', async () => {
          for (const path of ['/s/%2e%2e/secret.txt', '/s/..%2fsecret.txt', '/s/escape.txt', '/s/up/secret.txt', '/s/%c0%ae%c0%ae/secret.txt']) {
            assert.equal((await get(path)).status, 403, path);
          }
        });

        it('serves symlinks that stay inside the root as their targets, and refuses one a level down that leads out', async () => {
          const alias = await get('/s/alias.css');
          assert.equal(alias.status, 200);
          assert.deepEqual(alias.body, site.files.css);
          assert.equal(headerValue(alias.headers, 'content-type'), 'text/css; charset=utf-8');
          const linked = await get('/s/docs-link/index.html');
          assert.equal(linked.status, 200);
          assert.deepEqual(linked.body, site.files.index);
          const nested = await get('/s/docs/index.html');
          assert.deepEqual(nested.body, site.files.index);
          for (const path of ['/s/docs/up/secret.txt', '/s/docs-link/up/secret.txt']) assert.equal((await get(path)).status, 403, path);
        });
      });
    }
  });
}

/** The response, or 'reset' when the protocol refused the request outright (a bad :path). */
async function refusalOf(response: Promise<ClientResponse>): Promise<ClientResponse | 'reset'> {
  try {
    return await response;
  } catch {
    return 'reset';
  }
}
