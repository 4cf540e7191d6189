// --static-cache-paths: what a lookup found is kept for the given seconds (the bytes of a small
// file, the real path and stat of a large one), a change shows once that time has passed, and
// the cache never serves what a fresh lookup would refuse. Over h2 (the exchange) and HTTP/1.1
// (where a plain hit for a small file skips the exchange and goes straight to node:http).

import assert from 'node:assert/strict';
import { rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectClient, type ProtocolClient } from '../helpers/protocol-clients.ts';
import { startSpry, TEST_APP_ARGS, type SpryProcess } from '../helpers/spry-process.ts';
import { xorshiftBytes } from '../helpers/xorshift-bytes.ts';
import { NGHTTP, runTool } from '../tools/tools.ts';
import { makeStaticSite, type StaticSite } from './static-site.ts';

for (const [protocol, seconds] of [['h2', 60], ['h2', 1], ['http/1.1', 60], ['http/1.1', 1]] as const) {
  describe(`--static-cache-paths ${seconds} over ${protocol}`, () => {
    let site: StaticSite;
    let spry: SpryProcess;
    let client: ProtocolClient;

    before(async () => {
      site = makeStaticSite();
      spry = await startSpry(['--https2', 'addr=127.0.0.1:0', ...TEST_APP_ARGS, '--static-map', `/s=${site.root}`, '--static-cache-paths', String(seconds), '--hsts', '600']);
      client = await connectClient(protocol, spry.listener('https'));
    });
    after(async () => {
      await client?.close();
      await spry?.stop();
      site?.remove();
    });
    const get = (path: string, headers: [string, string][] = []) => client.request({ path, headers });

    if (seconds === 60) {
      it('keeps serving a small file\'s bytes from memory while the entry lasts', async () => {
        writeFileSync(join(site.root, 'kept.txt'), 'first\n');
        assert.equal((await get('/s/kept.txt')).body.toString(), 'first\n');
        writeFileSync(join(site.root, 'kept.txt'), 'second, longer\n');
        const again = await get('/s/kept.txt');
        assert.equal(again.body.toString(), 'first\n');
      });

      it('sends HSTS with a cached file, as with any response', async () => {
        for (let i = 0; i < 2; i++) assert.equal(header(await get('/s/style.css'), 'strict-transport-security'), 'max-age=600');
      });

      it('answers a cached small file\'s conditional, range and HEAD requests as a fresh lookup would', async () => {
        const whole = await get('/s/style.css');
        assert.ok(whole.body.equals(site.files.css));
        const etag = header(whole, 'etag');
        assert.equal((await get('/s/style.css', [['if-none-match', etag]])).status, 304);
        assert.equal((await get('/s/style.css', [['If-Modified-Since', header(whole, 'last-modified')]])).status, 304);
        const range = await get('/s/style.css', [['Range', 'bytes=0-3']]);
        assert.equal(range.status, 206);
        assert.equal(range.body.toString(), 'body');
        assert.equal((await get('/s/style.css', [['range', 'bytes=0-3'], ['if-range', '"stale"']])).status, 200);
        const bare = await client.request({ method: 'HEAD', path: '/s/style.css' });
        assert.equal(bare.status, 200);
        assert.equal(bare.body.length, 0);
        assert.equal(header(bare, 'content-length'), String(site.files.css.length));
        assert.equal(header(bare, 'etag'), etag);
      });

      if (protocol === 'h2') it('answers a cached small file with its body in one DATA frame that ends the stream', { skip: NGHTTP.skip }, async () => {
        await get('/s/style.css');
        const nghttp = await runTool(NGHTTP, ['-nv', `${spry.listener('https').origin}/s/style.css`], { timeoutMs: 10_000 });
        assert.equal(nghttp.status, 0, nghttp.stderr.toString());
        const frames = [...nghttp.stdout.toString().matchAll(/recv DATA frame <length=(\d+), flags=0x([0-9a-f]+), stream_id=13>/g)];
        assert.deepEqual(frames.map(([, length, flags]) => [Number(length), Number.parseInt(flags, 16) & 1]), [[site.files.css.length, 1]]);
      });

      it('refuses a cached large file once it is swapped for a symlink out of the root', async () => {
        const big = xorshiftBytes(200_000, 3);
        const outside = xorshiftBytes(200_000, 4);
        writeFileSync(join(site.root, 'big.bin'), big);
        writeFileSync(join(site.base, 'outside.bin'), outside);
        assert.ok((await get('/s/big.bin')).body.equals(big));
        rmSync(join(site.root, 'big.bin'));
        symlinkSync(join(site.base, 'outside.bin'), join(site.root, 'big.bin'));
        const swapped = await get('/s/big.bin');
        assert.equal(swapped.status, 403);
        assert.ok(!swapped.body.includes(outside.subarray(0, 64)), 'the outside file was served');
      });

      it('keeps a refusal: a symlink out of the root stays refused after it is pointed inside', async () => {
        assert.equal((await get('/s/escape.txt')).status, 403);
        rmSync(join(site.root, 'escape.txt'));
        symlinkSync(join(site.root, 'style.css'), join(site.root, 'escape.txt'));
        assert.equal((await get('/s/escape.txt')).status, 403);
      });
    } else {
      it('serves a changed small file once the second has passed, and a removed one no longer', async () => {
        writeFileSync(join(site.root, 'fresh.txt'), 'old\n');
        assert.equal((await get('/s/fresh.txt')).body.toString(), 'old\n');
        writeFileSync(join(site.root, 'fresh.txt'), 'new and longer\n');
        await until(async () => (await get('/s/fresh.txt')).body.toString() === 'new and longer\n', 'the new bytes');
        rmSync(join(site.root, 'fresh.txt'));
        await until(async () => (await get('/s/fresh.txt')).status === 404, 'the removed file to go to the app');
      });
    }
  });
}

function header(response: { readonly headers: [string, string][] }, name: string): string {
  const found = response.headers.find(([key]) => key === name);
  assert.ok(found !== undefined, `no ${name} header`);
  return found[1];
}

/** Polls every 100 ms; rejects after 10 s (a deadline for a hang, not a measurement). */
async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let waited = 0; !(await condition()); waited += 100) {
    if (waited > 10_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
