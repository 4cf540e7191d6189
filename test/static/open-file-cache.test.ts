// The open-file cache's bounds: the bytes it keeps (file bytes and keys) and its entries stay
// under their limits whatever is put in, the least recently used going first; an entry lasts
// its time and no longer.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeFile } from '../../src/static/file-description.ts';
import { MAX_CACHED_BYTES, MAX_ENTRIES, OpenFileCache, SMALL_FILE_BYTES, type CachedLookup } from '../../src/static/open-file-cache.ts';

function smallFile(name: string, size = SMALL_FILE_BYTES): CachedLookup {
  return { kind: 'file', file: describeFile(`/srv/${name}`, { size, mtimeMs: 0, ino: 1, dev: 1 }), bytes: Buffer.alloc(size) };
}

describe('the open-file cache', () => {
  it('keeps no more file bytes than its budget, dropping the least recently used first', () => {
    const cache = new OpenFileCache(60_000);
    const fit = Math.floor(MAX_CACHED_BYTES / (SMALL_FILE_BYTES + 16));
    for (let i = 0; i < fit * 2; i++) {
      cache.set(`/f/${i}`, smallFile(String(i)));
      if (i === 0 || i % 50 === 0) cache.get('/f/0'); // kept in use: never the oldest
    }
    assert.ok(cache.size.bytes <= MAX_CACHED_BYTES, `${cache.size.bytes} bytes kept`);
    assert.ok(cache.size.entries < fit * 2 && cache.size.entries >= fit - 1, `${cache.size.entries} entries`);
    assert.notEqual(cache.get('/f/0'), undefined, 'the entry in use was dropped');
    assert.equal(cache.get('/f/1'), undefined, 'the oldest unused entry was kept');
    assert.notEqual(cache.get(`/f/${fit * 2 - 1}`), undefined, 'the newest entry was dropped');
  });

  it('counts its keys as bytes, so long URL paths cannot grow it past the budget', () => {
    const cache = new OpenFileCache(60_000);
    const long = 'x'.repeat(8 << 10);
    for (let i = 0; i < MAX_ENTRIES; i++) cache.set(`/${i}/${long}`, { kind: 'none' });
    assert.ok(cache.size.bytes <= MAX_CACHED_BYTES, `${cache.size.bytes} bytes kept`);
    assert.ok(cache.size.entries < MAX_ENTRIES, `${cache.size.entries} entries of 8 KiB keys`);
  });

  it('holds at most its number of entries', () => {
    const cache = new OpenFileCache(60_000);
    for (let i = 0; i < MAX_ENTRIES + 100; i++) cache.set(`/${i}`, { kind: 'refused' });
    assert.equal(cache.size.entries, MAX_ENTRIES);
    assert.equal(cache.get('/0'), undefined);
  });

  it('forgets an entry once its time has passed', async () => {
    const cache = new OpenFileCache(20);
    cache.set('/a', smallFile('a', 10));
    assert.notEqual(cache.get('/a'), undefined);
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal(cache.get('/a'), undefined);
    assert.deepEqual(cache.size, { entries: 0, bytes: 0 });
  });
});
