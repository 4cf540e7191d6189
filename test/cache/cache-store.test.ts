// The authoritative store's rules: the item and block bounds, LRU eviction (a read moves a key to
// the back), bitmap mode, purge_lru=0, expiry, and the key limits, each failure a SpryError
// whose one-line message names the cache, the key and the limit.

import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import { CacheStore, createStore } from '../../src/cache/cache-store.ts';
import type { CacheLimits } from '../../src/cache/limits.ts';
import { ConfigError, SpryError } from '../../src/errors.ts';

function store(overrides: Partial<CacheLimits> = {}): CacheStore {
  return new CacheStore({ name: 'test', items: 3, blocksize: 10, blocks: 3, keysize: 16, bitmap: false, purgeLru: true, ...overrides });
}

function cacheError(message: string | RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof SpryError, `not a SpryError: ${String(error)}`);
    assert.equal(error.code, 'SPRY_ERR_CACHE');
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    assert.ok(!error.message.includes('\n'), 'the message is one line');
    return true;
  };
}

const bytes = (text: string) => Buffer.from(text);

describe('CacheStore', () => {
  afterEach(() => mock.timers.reset());

  it('returns what was set, with its content type, and counts items, blocks and bytes', () => {
    const cache = store();
    assert.deepEqual(cache.set('/a.css', bytes('body{}'), { contentType: 'text/css' }), []);
    cache.set('/b', bytes('0123456789'));
    const entry = cache.get('/a.css');
    assert.deepEqual([entry?.value, entry?.contentType, entry?.expiresAt], [bytes('body{}'), 'text/css', undefined]);
    assert.equal(cache.get('/b')?.contentType, 'application/octet-stream');
    assert.deepEqual(cache.stats(), { items: 2, maxItems: 3, blocksUsed: 2, blocks: 3, blocksize: 10, bytes: 16 });
  });

  it('guesses the content type from the key when none is given', () => {
    const cache = store();
    cache.set('/x.js', bytes('1'));
    assert.equal(cache.peek('/x.js')?.contentType, 'text/javascript; charset=utf-8');
  });

  it('keeps a private copy of the value', () => {
    const cache = store();
    const value = bytes('abc');
    cache.set('k', value);
    value[0] = 0x7a;
    assert.equal(cache.get('k')?.value.toString(), 'abc');
  });

  it('counts an empty value as one block', () => {
    const cache = store();
    cache.set('empty', Buffer.alloc(0));
    assert.equal(cache.stats().blocksUsed, 1);
    assert.equal(cache.get('empty')?.value.length, 0);
  });

  it('evicts the least recently set key when the item bound is reached, and returns it', () => {
    const cache = store({ blocks: 100 });
    cache.set('a', bytes('1'));
    cache.set('b', bytes('2'));
    cache.set('c', bytes('3'));
    assert.deepEqual(cache.set('d', bytes('4')), ['a']);
    assert.deepEqual(cache.keys(), ['b', 'c', 'd']);
  });

  it('moves a key that is read to the back of the eviction order', () => {
    const cache = store({ blocks: 100 });
    cache.set('a', bytes('1'));
    cache.set('b', bytes('2'));
    cache.set('c', bytes('3'));
    cache.get('a');
    assert.deepEqual(cache.set('d', bytes('4')), ['b']);
    assert.deepEqual(cache.keys(), ['c', 'a', 'd']);
  });

  it('does not reorder on peek or has', () => {
    const cache = store({ blocks: 100 });
    cache.set('a', bytes('1'));
    cache.set('b', bytes('2'));
    cache.set('c', bytes('3'));
    cache.peek('a');
    cache.has('a');
    assert.deepEqual(cache.set('d', bytes('4')), ['a']);
  });

  it('moves touched keys to the back in the order given, ignoring unknown ones', () => {
    const cache = store({ blocks: 100 });
    for (const key of ['a', 'b', 'c']) cache.set(key, bytes(key));
    cache.touch(['b', 'gone', 'a']);
    assert.deepEqual(cache.keys(), ['c', 'b', 'a']);
    assert.deepEqual(cache.set('d', bytes('4')), ['c']);
  });

  it('replacing a key frees its old blocks first and makes it the most recent', () => {
    const cache = store({ bitmap: true, blocks: 4 });
    cache.set('a', Buffer.alloc(30));
    cache.set('b', Buffer.alloc(10));
    assert.deepEqual(cache.set('a', Buffer.alloc(25)), []);
    assert.deepEqual(cache.keys(), ['b', 'a']);
    assert.deepEqual(cache.stats(), { items: 2, maxItems: 3, blocksUsed: 4, blocks: 4, blocksize: 10, bytes: 35 });
  });

  it('evicts as many least recently used keys as the blocks of a big value need (bitmap=1)', () => {
    const cache = store({ bitmap: true, items: 10, blocks: 4 });
    for (const key of ['a', 'b', 'c', 'd']) cache.set(key, bytes(key));
    assert.deepEqual(cache.set('big', Buffer.alloc(21)), ['a', 'b', 'c']);
    assert.deepEqual(cache.stats().blocksUsed, 4);
    assert.deepEqual(cache.keys(), ['d', 'big']);
  });

  it('without bitmap=1, refuses a value larger than blocksize, naming cache, key and limit', () => {
    const cache = store();
    assert.throws(
      () => cache.set('/big.js', Buffer.alloc(11)),
      cacheError('cache "test": the value for "/big.js" is 11 bytes, more than blocksize=10 (bitmap=1 lets values span blocks)'),
    );
    assert.equal(cache.size, 0);
  });

  it('with bitmap=1, takes values up to blocks × blocksize and refuses larger ones', () => {
    const cache = store({ bitmap: true });
    cache.set('fits', Buffer.alloc(30));
    assert.equal(cache.stats().blocksUsed, 3);
    assert.throws(
      () => cache.set('big', Buffer.alloc(31)),
      cacheError('cache "test": the value for "big" is 31 bytes, more than the cache holds (blocks=3 × blocksize=10)'),
    );
    assert.deepEqual(cache.keys(), ['fits']);
  });

  it('with purge_lru=0, refuses a set that needs an eviction and leaves the cache as it was', () => {
    const cache = store({ purgeLru: false });
    for (const key of ['a', 'b', 'c']) cache.set(key, bytes(key));
    assert.throws(
      () => cache.set('d', bytes('4')),
      cacheError('cache "test": no room for "d" (3 of items=3, 3 of blocks=3 in use) and purge_lru=0 forbids evicting'),
    );
    assert.deepEqual(cache.keys(), ['a', 'b', 'c']);
    // Replacing a held key needs no room.
    assert.deepEqual(cache.set('b', bytes('B')), []);
  });

  it('with purge_lru=0, still makes room by dropping expired entries', () => {
    mock.timers.enable({ apis: ['Date'], now: 1_000 });
    const cache = store({ purgeLru: false });
    cache.set('a', bytes('a'));
    cache.set('old', bytes('o'), { expiresAt: 1_500 });
    cache.set('c', bytes('c'));
    mock.timers.tick(1_000);
    assert.deepEqual(cache.set('d', bytes('d')), ['old']);
    assert.deepEqual(cache.keys(), ['a', 'c', 'd']);
  });

  it('hides and deletes an expired entry when it is read', () => {
    mock.timers.enable({ apis: ['Date'], now: 10_000 });
    const cache = store();
    cache.set('k', bytes('v'), { expiresAt: 10_500 });
    assert.equal(cache.get('k')?.value.toString(), 'v');
    mock.timers.tick(500);
    assert.ok(cache.has('k'), 'still there at its expiry instant');
    mock.timers.tick(1);
    assert.equal(cache.get('k'), undefined);
    assert.equal(cache.size, 0);
    assert.equal(cache.stats().blocksUsed, 0);
  });

  it('drops expired entries before live ones when it needs room', () => {
    mock.timers.enable({ apis: ['Date'], now: 0 });
    const cache = store({ blocks: 100 });
    cache.set('a', bytes('a'));
    cache.set('b', bytes('b'), { expiresAt: 100 });
    cache.set('c', bytes('c'));
    mock.timers.tick(200);
    assert.deepEqual(cache.set('d', bytes('d')), ['b']);
  });

  it('sweeps every expired entry at once', () => {
    mock.timers.enable({ apis: ['Date'], now: 0 });
    const cache = store({ blocks: 100 });
    cache.set('a', bytes('a'), { expiresAt: 100 });
    cache.set('b', bytes('b'));
    cache.set('c', bytes('c'), { expiresAt: 300 });
    assert.deepEqual(cache.sweep(200), ['a']);
    assert.deepEqual(cache.sweep(400), ['c']);
    assert.deepEqual(cache.keys(), ['b']);
  });

  it('refuses an empty key, a key longer than keysize (in UTF-8 bytes) and a non-string key', () => {
    const cache = store({ keysize: 4 });
    assert.throws(() => cache.set('', bytes('v')), cacheError('cache "test": a key must not be empty'));
    cache.set('abcd', bytes('v'));
    assert.throws(() => cache.set('abcde', bytes('v')), cacheError('cache "test": key "abcde" is 5 bytes, more than keysize=4'));
    assert.throws(() => cache.set('ééé', bytes('v')), cacheError('cache "test": key "ééé" is 6 bytes, more than keysize=4'));
    assert.throws(() => cache.set(42 as unknown as string, bytes('v')), cacheError('cache "test": a key must be a string, not number'));
  });

  it('cuts a very long key short in its message', () => {
    const cache = store();
    assert.throws(() => cache.set('k'.repeat(1000), bytes('v')), cacheError(/^cache "test": key "k{64}…" is 1000 bytes, more than keysize=16$/));
  });

  it('deletes and clears, freeing blocks and bytes', () => {
    const cache = store();
    cache.set('a', bytes('1'));
    cache.set('b', bytes('22'));
    assert.equal(cache.delete('a'), true);
    assert.equal(cache.delete('a'), false);
    assert.deepEqual(cache.stats(), { items: 1, maxItems: 3, blocksUsed: 1, blocks: 3, blocksize: 10, bytes: 2 });
    cache.clear();
    assert.deepEqual(cache.stats(), { items: 0, maxItems: 3, blocksUsed: 0, blocks: 3, blocksize: 10, bytes: 0 });
  });

  it('snapshots entries least recently used first, as puts', () => {
    const cache = store();
    cache.set('a', bytes('1'), { contentType: 'text/plain' });
    cache.set('b', bytes('2'), { contentType: 'text/plain', expiresAt: 99_999_999_999_999 });
    cache.get('a');
    assert.deepEqual(cache.snapshot(), [
      { op: 'put', key: 'b', value: bytes('2'), contentType: 'text/plain', expiresAt: 99_999_999_999_999 },
      { op: 'put', key: 'a', value: bytes('1'), contentType: 'text/plain', expiresAt: undefined },
    ]);
  });
});

describe('createStore', () => {
  const config = { name: 'static', items: 2, blocksize: 10, blocks: 2, keysize: 64, bitmap: false, purgeLru: true };

  it('fills the store from the preload list in order', () => {
    const cache = createStore({
      ...config,
      preload: [
        { key: '/a.css', value: bytes('a{}'), contentType: 'text/css; charset=utf-8', file: 'a.css' },
        { key: '/b.js', value: bytes('b()'), contentType: 'text/javascript; charset=utf-8', file: 'b.js' },
      ],
    });
    assert.deepEqual(cache.keys(), ['/a.css', '/b.js']);
    assert.equal(cache.get('/a.css')?.contentType, 'text/css; charset=utf-8');
  });

  it('reports a preloaded file that does not fit as a configuration error naming the file', () => {
    assert.throws(
      () => createStore({ ...config, preload: [{ key: '/big', value: Buffer.alloc(11), contentType: 'x/y', file: 'big.bin' }] }),
      (error) => error instanceof ConfigError && error.message === '--load-file-in-cache: big.bin: cache "static": the value for "/big" is 11 bytes, more than blocksize=10 (bitmap=1 lets values span blocks)',
    );
  });
});
