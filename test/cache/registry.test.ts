// The process's caches as apps reach them (`spry/cache`): local mode (no master), and worker mode
// driven in this process by the master's own MasterCaches over a simulated, asynchronous IPC
// channel (real processes are in master.test.ts).

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { cache, cacheNames } from '../../src/cache/api.ts';
import type { CacheNotice, CacheRequest } from '../../src/cache/cache-messages.ts';
import { contentTypeFor } from '../../src/cache/content-type.ts';
import { MasterCaches, withoutPreload } from '../../src/cache/master-caches.ts';
import { applyCacheNotice, cacheMasterGone, findCache, installLocalCaches, installWorkerCaches } from '../../src/cache/registry.ts';
import type { CacheConfig, SpryConfig } from '../../src/config/config.ts';
import { SpryError } from '../../src/errors.ts';

const ASSETS: CacheConfig = {
  name: 'assets', items: 3, blocksize: 16, blocks: 3, keysize: 32, bitmap: false, purgeLru: true,
  preload: [{ key: '/app.css', value: Buffer.from('body{}'), contentType: 'text/css; charset=utf-8', file: 'app.css' }],
};
const STRICT: CacheConfig = { name: 'strict', items: 1, blocksize: 16, blocks: 1, keysize: 32, bitmap: false, purgeLru: false, preload: [] };

function cacheError(message: string | RegExp): (error: unknown) => boolean {
  return (error) => error instanceof SpryError && error.code === 'SPRY_ERR_CACHE' && (typeof message === 'string' ? error.message === message : message.test(error.message));
}

afterEach(() => installLocalCaches([]));

describe('cache() without any --cache2', () => {
  it('throws, saying no cache is configured', () => {
    installLocalCaches([]);
    assert.deepEqual(cacheNames(), []);
    assert.equal(findCache(), undefined);
    assert.throws(() => cache(), cacheError('spry/cache: no cache is configured (start spry with --cache2 name=NAME,items=N)'));
  });
});

describe('local caches (no master)', () => {
  it('lists the caches in --cache2 order; cache() and findCache() default to the first', () => {
    installLocalCaches([ASSETS, STRICT]);
    assert.deepEqual(cacheNames(), ['assets', 'strict']);
    assert.equal(cache().name, 'assets');
    assert.equal(findCache()?.name, 'assets');
    assert.equal(cache('strict').name, 'strict');
    assert.equal(findCache('nope'), undefined);
  });

  it('throws for an unknown name, listing the known caches', () => {
    installLocalCaches([ASSETS, STRICT]);
    assert.throws(() => cache('nope'), cacheError('spry/cache: no cache named "nope" (caches: assets, strict)'));
  });

  it('holds the preloaded files, with their content types', () => {
    installLocalCaches([ASSETS]);
    assert.deepEqual(findCache('assets')?.getEntry('/app.css'), { value: Buffer.from('body{}'), contentType: 'text/css; charset=utf-8' });
  });

  it('applies a write before its promise settles, and stores strings as UTF-8', async () => {
    installLocalCaches([ASSETS]);
    const written = cache().set('/hello.txt', 'héllo');
    assert.equal(cache().get('/hello.txt')?.toString(), 'héllo');
    await written;
    assert.equal(cache().getEntry('/hello.txt')?.contentType, 'text/plain; charset=utf-8');
    assert.ok(cache().has('/hello.txt'));
    assert.equal(cache().size, 2);
  });

  it('takes an explicit content type and an expiry in seconds', async (t) => {
    installLocalCaches([ASSETS]);
    await cache().set('k', new Uint8Array([1, 2]), { contentType: 'x/y', expires: 60 });
    assert.equal(cache().getEntry('k')?.contentType, 'x/y');
    // A minute later by the clock the cache reads (no sleeping, no race with a busy machine).
    const now = Date.now();
    t.mock.method(Date, 'now', () => now + 59_000);
    assert.deepEqual(cache().get('k'), Buffer.from([1, 2]));
    t.mock.method(Date, 'now', () => now + 61_000);
    assert.equal(cache().get('k'), undefined);
  });

  it('rejects a bad write with the limit in the message, leaving the cache as it was', async () => {
    installLocalCaches([ASSETS, STRICT]);
    await assert.rejects(cache().set('/big', Buffer.alloc(17)), cacheError('cache "assets": the value for "/big" is 17 bytes, more than blocksize=16 (bitmap=1 lets values span blocks)'));
    await assert.rejects(cache().set('k', 'v', { expires: -1 }), cacheError('cache "assets": expires must be a number of seconds, 0 or more (got -1)'));
    await assert.rejects(cache().set('k', 42 as unknown as string), cacheError('cache "assets": the value for key "k" must be a string or a Uint8Array, not number'));
    await cache('strict').set('one', 'v');
    await assert.rejects(cache('strict').set('two', 'v'), cacheError(/^cache "strict": no room for "two" .*purge_lru=0/));
    assert.deepEqual(cache().keys(), ['/app.css']);
    assert.deepEqual(cache('strict').keys(), ['one']);
  });

  it('deletes and clears', async () => {
    installLocalCaches([ASSETS]);
    assert.equal(await cache().delete('/app.css'), true);
    assert.equal(await cache().delete('/app.css'), false);
    await cache().set('a', 'a');
    await cache().clear();
    assert.deepEqual(cache().stats(), { items: 0, maxItems: 3, blocksUsed: 0, blocks: 3, blocksize: 16, bytes: 0 });
  });

  it('is shared with another copy of the module (through a registered symbol)', async () => {
    installLocalCaches([ASSETS]);
    const copy = (await import(`../../src/cache/registry.ts?copy=${Date.now()}`)) as typeof import('../../src/cache/registry.ts');
    assert.equal(copy.findCache('assets')?.get('/app.css')?.toString(), 'body{}');
  });
});

/**
 * This process as a worker of a master that lives here too: requests reach the MasterCaches a
 * tick later, and its broadcast then its reply come back a tick after that, in order.
 */
function simulateWorker(configs: CacheConfig[]): { master: MasterCaches; sent: CacheRequest[] } {
  const master = new MasterCaches(configs);
  const sent: CacheRequest[] = [];
  const config = withoutPreload({ caches: configs } as unknown as SpryConfig);
  installWorkerCaches(config.caches, master.snapshot(), (request) => {
    sent.push(request);
    setImmediate(() => {
      const { broadcast, reply } = master.handle(structuredClone(request));
      const notices = [broadcast, reply].filter((notice): notice is CacheNotice => notice !== undefined).map((notice) => structuredClone(notice));
      setImmediate(() => notices.forEach(applyCacheNotice));
    });
  });
  return { master, sent };
}

describe('worker caches (replicas of the master\'s)', () => {
  it('start from the master\'s snapshot, preloaded files included', () => {
    simulateWorker([ASSETS]);
    assert.equal(cache().get('/app.css')?.toString(), 'body{}');
    assert.equal(cache().getEntry('/app.css')?.contentType, 'text/css; charset=utf-8');
  });

  it('read their own write once it resolves, not before', async () => {
    const { master } = simulateWorker([ASSETS]);
    const written = cache().set('/x.json', '{}');
    assert.equal(cache().get('/x.json'), undefined);
    await written;
    assert.equal(cache().get('/x.json')?.toString(), '{}');
    assert.equal(cache().getEntry('/x.json')?.contentType, 'application/json; charset=utf-8');
    assert.deepEqual(master.snapshot()[0].entries.map((entry) => entry.key), ['/app.css', '/x.json']);
  });

  it('apply the master\'s evictions', async () => {
    simulateWorker([ASSETS]);
    await cache().set('a', 'a');
    await cache().set('b', 'b');
    await cache().set('c', 'c');
    assert.deepEqual(cache().keys(), ['a', 'b', 'c']);
    assert.deepEqual(cache().stats(), { items: 3, maxItems: 3, blocksUsed: 3, blocks: 3, blocksize: 16, bytes: 3 });
  });

  it('refuse a write that breaks a limit without asking the master', async () => {
    const { sent } = simulateWorker([ASSETS]);
    await assert.rejects(cache().set('k'.repeat(33), 'v'), cacheError(/^cache "assets": key "k{33}" is 33 bytes, more than keysize=32$/));
    await assert.rejects(cache().set('/big', Buffer.alloc(17)), cacheError(/more than blocksize=16/));
    assert.deepEqual(sent, []);
  });

  it('pass on the master\'s refusal with purge_lru=0', async () => {
    simulateWorker([STRICT]);
    await cache().set('one', 'v');
    await assert.rejects(cache().set('two', 'v'), cacheError(/^cache "strict": no room for "two" \(1 of items=1, 1 of blocks=1 in use\) and purge_lru=0 forbids evicting$/));
  });

  it('report deletes as the master saw them, and clear', async () => {
    simulateWorker([ASSETS]);
    assert.equal(await cache().delete('/app.css'), true);
    assert.equal(cache().has('/app.css'), false);
    assert.equal(await cache().delete('/app.css'), false);
    await cache().set('a', 'a');
    await cache().clear();
    assert.equal(cache().size, 0);
  });

  it('batch the keys they read and send them to the master within a second', async () => {
    const { master, sent } = simulateWorker([{ ...ASSETS, preload: [] }]);
    await cache().set('a', 'a');
    await cache().set('b', 'b');
    await cache().set('c', 'c');
    cache().get('a');
    cache().getEntry('a');
    assert.ok(cache().has('b'), 'has() is no use for LRU');
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    assert.deepEqual(sent.filter((request) => request.type === 'cache-touch'), [{ type: 'cache-touch', touched: [{ cache: 'assets', keys: ['a'] }] }]);
    assert.deepEqual(master.snapshot()[0].entries.map((entry) => entry.key), ['b', 'c', 'a']);
    await cache().set('d', 'd');
    assert.deepEqual(cache().keys().sort(), ['a', 'c', 'd']);
  });

  it('refuse writes once the master is gone, and fail those still waiting', async () => {
    simulateWorker([ASSETS]);
    const waiting = cache().set('a', 'a');
    cacheMasterGone();
    const gone = /^cache "assets": the master process is gone, so this worker can no longer write/;
    await assert.rejects(waiting, cacheError(gone));
    await assert.rejects(cache().set('b', 'b'), cacheError(gone));
    await assert.rejects(cache().delete('b'), cacheError(gone));
    assert.equal(cache().get('/app.css')?.toString(), 'body{}', 'reads still work');
  });
});

describe('contentTypeFor', () => {
  it('guesses from the extension, ignoring case, query and fragment', () => {
    assert.equal(contentTypeFor('/static/site.CSS?v=3'), 'text/css; charset=utf-8');
    assert.equal(contentTypeFor('app.mjs#x'), 'text/javascript; charset=utf-8');
    assert.equal(contentTypeFor('/img/logo.svg'), 'image/svg+xml; charset=utf-8');
    assert.equal(contentTypeFor('/img/a.jpeg'), 'image/jpeg');
    assert.equal(contentTypeFor('/fonts/f.woff2'), 'font/woff2');
    assert.equal(contentTypeFor('/m.wasm'), 'application/wasm');
  });

  it('falls back to application/octet-stream', () => {
    for (const path of ['/README', '/.htaccess', '/x.constructor', '/dir.css/file', '/a.unknown']) {
      assert.equal(contentTypeFor(path), 'application/octet-stream', path);
    }
  });
});
