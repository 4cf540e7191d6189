// --cache2 and --load-file-in-cache on the command line: every mistake is one line naming the
// culprit and exit status 2 with nothing started; the good spellings put the right files under
// the right keys in the right cache, and a directory served from the cache answers over HTTP.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseCommandLine } from '../../src/cli/options.ts';
import type { CacheConfig } from '../../src/config/config.ts';
import { startSpry } from '../helpers/spry-process.ts';
import { assertConfigError } from './run-spry.ts';

const MODULE = ['--module', './examples/testapp.ts:testApp'];
const LISTENER = ['--https2', 'addr=127.0.0.1:0'];

let dir: string;
/** style.css (20 bytes), big.bin (1000 bytes), site/ with three files, "my file.txt". */
let files: { style: string; big: string; site: string; spaced: string };
const STYLE = 'body { color: red }\n';
const SITE: Record<string, string> = { 'a.css': 'a {}\n', 'img/logo.png': 'PNG', 'sub/b.js': 'console.log(1);\n' };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spry-cache2-'));
  files = { style: join(dir, 'style.css'), big: join(dir, 'big.bin'), site: join(dir, 'site'), spaced: join(dir, 'my file.txt') };
  await writeFile(files.style, STYLE);
  await writeFile(files.big, Buffer.alloc(1000, 7));
  await writeFile(files.spaced, 'spaced\n');
  for (const [name, text] of Object.entries(SITE)) {
    await mkdir(join(files.site, name, '..'), { recursive: true });
    await writeFile(join(files.site, name), text);
  }
});
after(() => rm(dir, { recursive: true, force: true }));

describe('--cache2 and --load-file-in-cache mistakes: exit status 2, one line naming the culprit', { concurrency: 4 }, () => {
  const KNOWN_KEYS = 'name, items, blocksize, blocks, keysize, bitmap, purge_lru';
  const cases: { what: string; args: () => string[]; message: () => string }[] = [
    { what: 'an empty name=', args: () => ['--cache2', 'name=,items=10'], message: () => '--cache2: "name=,items=10" has no name= (e.g. name=assets,items=100)' },
    { what: 'no items=', args: () => ['--cache2', 'name=c'], message: () => '--cache2: "name=c" has no items= (the most entries it may hold)' },
    { what: 'an unknown key', args: () => ['--cache2', 'name=c,items=10,size=5'], message: () => `--cache2: unknown key "size" (known: ${KNOWN_KEYS})` },
    { what: 'a key given twice', args: () => ['--cache2', 'name=c,items=1,items=2'], message: () => '--cache2: items= given twice' },
    { what: 'two caches of one name', args: () => ['--cache2', 'name=c,items=1', '--cache2', 'name=c,items=2'], message: () => '--cache2: a cache named "c" already exists' },
    { what: 'items=0', args: () => ['--cache2', 'name=c,items=0'], message: () => '--cache2: items=0: must be a whole number of items from 1 to 10000000' },
    { what: 'blocksize=64k', args: () => ['--cache2', 'name=c,items=1,blocksize=64k'], message: () => '--cache2: blocksize=64k: must be a whole number of bytes from 1 to 1073741824' },
    { what: 'blocks=0', args: () => ['--cache2', 'name=c,items=1,blocks=0'], message: () => '--cache2: blocks=0: must be a whole number of blocks from 1 to 100000000' },
    { what: 'keysize=65536', args: () => ['--cache2', 'name=c,items=1,keysize=65536'], message: () => '--cache2: keysize=65536: must be a whole number of bytes from 1 to 65535' },
    { what: 'bitmap=2', args: () => ['--cache2', 'name=c,items=1,bitmap=2'], message: () => '--cache2: bitmap=2: must be 0 or 1' },
    { what: 'purge_lru=yes', args: () => ['--cache2', 'name=c,items=1,purge_lru=yes'], message: () => '--cache2: purge_lru=yes: must be 0 or 1' },
    { what: 'a missing file', args: () => ['--cache2', 'name=c,items=1', '--load-file-in-cache', join(dir, 'nope.css')], message: () => `--load-file-in-cache: ${join(dir, 'nope.css')}: cannot read (ENOENT)` },
    { what: 'a missing file behind /url=', args: () => ['--cache2', 'name=c,items=1', '--load-file-in-cache', `/x.css=${join(dir, 'nope.css')}`], message: () => `--load-file-in-cache: ${join(dir, 'nope.css')}: cannot read (ENOENT)` },
    { what: '/url= without a file', args: () => ['--cache2', 'name=c,items=1', '--load-file-in-cache', '/x.css='], message: () => '--load-file-in-cache: /x.css=: no file after =' },
    { what: 'a directory without /path=', args: () => ['--cache2', 'name=c,items=10', '--load-file-in-cache', files.site], message: () => `--load-file-in-cache: ${files.site} is a directory: map it to a URL path, e.g. /static=${files.site}` },
    {
      what: 'a file larger than blocksize without bitmap=1',
      args: () => ['--cache2', 'name=c,items=10,blocksize=100', '--load-file-in-cache', `/big.bin=${files.big}`],
      message: () => `--load-file-in-cache: ${files.big} (key /big.bin) in cache "c": 1000 bytes do not fit blocksize=100 (raise blocksize=, or bitmap=1 to span blocks)`,
    },
    {
      what: 'a file larger than all the blocks, with bitmap=1',
      args: () => ['--cache2', 'name=c,items=10,blocksize=100,blocks=9,bitmap=1', '--load-file-in-cache', `/big.bin=${files.big}`],
      message: () => `--load-file-in-cache: ${files.big} (key /big.bin) in cache "c": 1000 bytes do not fit the cache's 9 blocks of 100 bytes`,
    },
    {
      what: 'files that together need more blocks than there are',
      args: () => ['--cache2', 'name=c,items=10,blocksize=600,blocks=2,bitmap=1', '--load-file-in-cache', `/big.bin=${files.big}`, '--load-file-in-cache', `/style.css=${files.style}`],
      message: () => '--load-file-in-cache: the files for cache "c" need 3 blocks of 600 bytes; it has blocks=2',
    },
    {
      what: 'a key longer than keysize',
      args: () => ['--cache2', 'name=c,items=1,keysize=4', '--load-file-in-cache', `/style.css=${files.style}`],
      message: () => `--load-file-in-cache: ${files.style} (key /style.css) in cache "c": the key is longer than keysize=4`,
    },
    {
      what: 'more files than items',
      args: () => ['--cache2', 'name=c,items=2', '--load-file-in-cache', `/static=${files.site}`],
      message: () => '--load-file-in-cache: 3 files for cache "c", which holds items=2',
    },
    {
      what: '--load-file-in-cache without any --cache2',
      args: () => ['--load-file-in-cache', files.style],
      message: () => `--load-file-in-cache: ${files.style}: there is no cache to load it into (add --cache2 name=…,items=…)`,
    },
  ];

  for (const { what, args, message } of cases) {
    it(what, async () => {
      await assertConfigError([...args(), ...LISTENER, ...MODULE], message());
    });
  }

  it('push-cache= naming no cache, when there is none', async () => {
    await assertConfigError(['--https2', 'addr=127.0.0.1:0,push-cache=nope', ...MODULE], '--https2: addr=127.0.0.1:0,push-cache=nope: push-cache=nope names no --cache2 (there is none)');
  });

  it('push-cache= naming no cache, listing the caches there are', async () => {
    await assertConfigError(['--cache2', 'name=a,items=1', '--cache2', 'name=b,items=1', '--https2', 'addr=127.0.0.1:0,push-cache=nope', ...MODULE],
      '--https2: addr=127.0.0.1:0,push-cache=nope: push-cache=nope names no --cache2 (known: a, b)');
  });
});

describe('--load-file-in-cache: where each spelling puts a file (parsed in process)', () => {
  async function caches(...args: string[]): Promise<readonly CacheConfig[]> {
    return (await parseCommandLine([...args, '--https2', 'addr=:1', ...MODULE])).caches;
  }
  const keys = (cache: CacheConfig): string[] => cache.preload.map((entry) => entry.key);

  it('/url=FILE: keyed by the URL path, typed by its extension, in the first cache', async () => {
    const [first, second] = await caches('--cache2', 'name=assets,items=10', '--cache2', 'name=other,items=10', '--load-file-in-cache', `/css/site.css=${files.style}`);
    assert.equal(first.preload.length, 1);
    const [entry] = first.preload;
    assert.equal(entry.key, '/css/site.css');
    assert.equal(Buffer.from(entry.value).toString(), STYLE);
    assert.equal(entry.contentType, 'text/css; charset=utf-8');
    assert.equal(entry.file, files.style);
    assert.deepEqual(second.preload, []);
  });

  it('CACHE /url=FILE and CACHE FILE: into the named cache', async () => {
    const [first, second] = await caches(
      '--cache2', 'name=assets,items=10', '--cache2', 'name=other,items=10',
      '--load-file-in-cache', `other /style.css=${files.style}`,
      '--load-file-in-cache', `other ${files.big}`,
    );
    assert.deepEqual(first.preload, []);
    assert.deepEqual(keys(second), ['/style.css', files.big]);
  });

  it('FILE alone: keyed by FILE as written (uWSGI\'s way)', async () => {
    const [cache] = await caches('--cache2', 'name=assets,items=10', '--load-file-in-cache', files.style);
    assert.deepEqual(keys(cache), [files.style]);
  });

  it('a first word that names no cache is part of the file name', async () => {
    const [cache] = await caches('--cache2', 'name=assets,items=10', '--load-file-in-cache', files.spaced);
    assert.deepEqual(keys(cache), [files.spaced]);
    assert.equal(Buffer.from(cache.preload[0].value).toString(), 'spaced\n');
  });

  for (const prefix of ['/static', '/static/']) {
    it(`${prefix}=DIR: every file under DIR, keyed below /static/`, async () => {
      const [cache] = await caches('--cache2', 'name=assets,items=10', '--load-file-in-cache', `${prefix}=${files.site}`);
      assert.deepEqual(keys(cache), ['/static/a.css', '/static/img/logo.png', '/static/sub/b.js']);
      for (const entry of cache.preload) assert.equal(Buffer.from(entry.value).toString(), SITE[entry.key.slice('/static/'.length)]);
      assert.deepEqual(cache.preload.map((entry) => entry.contentType), ['text/css; charset=utf-8', 'image/png', 'text/javascript; charset=utf-8']);
    });
  }

  it('a file larger than blocksize fits with bitmap=1 when the blocks suffice', async () => {
    const [cache] = await caches('--cache2', 'name=c,items=10,blocksize=100,bitmap=1', '--load-file-in-cache', `/big.bin=${files.big}`);
    assert.equal(cache.preload[0].value.length, 1000);
  });

  it('a later load of the same key replaces the earlier one', async () => {
    const [cache] = await caches('--cache2', 'name=c,items=1', '--load-file-in-cache', `/x=${files.big}`, '--load-file-in-cache', `/x=${files.style}`);
    assert.deepEqual(keys(cache), ['/x']);
    assert.equal(Buffer.from(cache.preload[0].value).toString(), STYLE);
  });
});

describe('a directory loaded with /static=DIR, served by spry', () => {
  it('answers GET /static/… with each file under DIR, and 404 for one that is not there', async () => {
    const spry = await startSpry(['--cache2', 'name=assets,items=10', '--load-file-in-cache', `/static=${files.site}`, '--http', '127.0.0.1:0', ...MODULE]);
    try {
      const origin = spry.listener('http').origin;
      for (const [name, text] of Object.entries(SITE)) {
        const response = await fetch(`${origin}/static/${name}`);
        assert.equal(response.status, 200, name);
        assert.equal(await response.text(), text);
      }
      const missing = await fetch(`${origin}/static/nope.css`);
      assert.equal(missing.status, 404);
      await missing.arrayBuffer();
    } finally {
      await spry.stop();
    }
  });
});
