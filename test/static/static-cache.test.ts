// --static-cache-paths: what a lookup found is kept for the given seconds (the bytes of a small
// file, the real path and stat of a large one), a change shows once that time has passed, and
// the cache never serves what a fresh lookup would refuse.

import assert from 'node:assert/strict';
import { rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectClient, type ProtocolClient } from '../helpers/protocol-clients.ts';
import { startSpry, TEST_APP_ARGS, type SpryProcess } from '../helpers/spry-process.ts';
import { xorshiftBytes } from '../helpers/xorshift-bytes.ts';
import { makeStaticSite, type StaticSite } from './static-site.ts';

for (const seconds of [60, 1]) {
  describe(`--static-cache-paths ${seconds}`, () => {
    let site: StaticSite;
    let spry: SpryProcess;
    let client: ProtocolClient;

    before(async () => {
      site = makeStaticSite();
      spry = await startSpry(['--https2', 'addr=127.0.0.1:0', ...TEST_APP_ARGS, '--static-map', `/s=${site.root}`, '--static-cache-paths', String(seconds)]);
      client = await connectClient('h2', spry.listener('https'));
    });
    after(async () => {
      await client?.close();
      await spry?.stop();
      site?.remove();
    });
    const get = (path: string) => client.request({ path });

    if (seconds === 60) {
      it('keeps serving a small file\'s bytes from memory while the entry lasts', async () => {
        writeFileSync(join(site.root, 'kept.txt'), 'first\n');
        assert.equal((await get('/s/kept.txt')).body.toString(), 'first\n');
        writeFileSync(join(site.root, 'kept.txt'), 'second, longer\n');
        const again = await get('/s/kept.txt');
        assert.equal(again.body.toString(), 'first\n');
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

/** Polls every 100 ms; rejects after 10 s (a deadline for a hang, not a measurement). */
async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let waited = 0; !(await condition()); waited += 100) {
    if (waited > 10_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
