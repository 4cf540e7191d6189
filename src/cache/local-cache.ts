// A cache in a process without a master: the process's own store, written synchronously (the
// promises exist only so an app's code is the same with and without a master).

import type { CacheEntry, CacheStore } from './cache-store.ts';
import type { CachedResponse, CacheSetOptions, CacheStats, SpryCache } from './spry-cache.ts';
import { checkKey } from './limits.ts';
import { prepareWrite } from './write-args.ts';
import { countCacheLookup } from '../observe/counters.ts';

export class LocalCache implements SpryCache {
  private readonly store: CacheStore;

  constructor(store: CacheStore) {
    this.store = store;
  }

  get name(): string {
    return this.store.name;
  }

  get size(): number {
    return this.store.size;
  }

  get(key: string): Buffer | undefined {
    return this.lookUp(key)?.value;
  }

  getEntry(key: string): CachedResponse | undefined {
    const entry = this.lookUp(key);
    return entry === undefined ? undefined : { value: entry.value, contentType: entry.contentType };
  }

  private lookUp(key: string): CacheEntry | undefined {
    const entry = this.store.get(key);
    countCacheLookup(this.store.name, entry !== undefined);
    return entry;
  }

  has(key: string): boolean {
    return this.store.has(key);
  }

  async set(key: string, value: string | Uint8Array, options?: CacheSetOptions): Promise<void> {
    const write = prepareWrite(this.store.limits, key, value, options);
    this.store.set(key, write.value, write);
  }

  async delete(key: string): Promise<boolean> {
    checkKey(this.store.limits, key);
    return this.store.delete(key);
  }

  async clear(): Promise<void> {
    this.store.clear();
  }

  keys(): string[] {
    return this.store.keys();
  }

  stats(): CacheStats {
    return this.store.stats();
  }
}
