// The authoritative store of one --cache2 cache: the master's (or, without a master, the only
// process's). Bounded by entry count and by blocks; kept in LRU order by a Map's insertion order
// (a use deletes and re-inserts the key), so eviction takes from the front.

import type { CacheConfig } from '../config/config.ts';
import { ConfigError } from '../errors.ts';
import type { CachePut } from './cache-messages.ts';
import { contentTypeFor } from './content-type.ts';
import { blocksFor, checkKey, checkValueSize, fits, noRoomError, type CacheLimits } from './limits.ts';
import type { CacheStats } from './spry-cache.ts';

export interface CacheEntry {
  /** The store's own copy: callers read it, never modify it. */
  readonly value: Buffer;
  readonly contentType: string;
  /** Milliseconds since the epoch; undefined: never expires. */
  readonly expiresAt: number | undefined;
}

export interface CacheEntryMeta {
  readonly contentType?: string;
  readonly expiresAt?: number;
}

interface StoredEntry extends CacheEntry {
  readonly blocks: number;
}

export class CacheStore {
  readonly limits: CacheLimits;
  private readonly entries = new Map<string, StoredEntry>();
  private blocksUsed = 0;
  private bytes = 0;
  /** Entries with an expiry: sweeping is skipped while there are none. */
  private expiring = 0;

  constructor(limits: CacheLimits) {
    this.limits = limits;
  }

  get name(): string {
    return this.limits.name;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Stores a copy of `value` under `key` as the most recently used entry; returns the keys it
   * removed to make room (expired ones first, then least recently used first). Throws a
   * SpryError for a bad key, a value too big for the cache, or no room with purge_lru=0.
   */
  set(key: string, value: Uint8Array, meta: CacheEntryMeta = {}): string[] {
    checkKey(this.limits, key);
    checkValueSize(this.limits, key, value.length);
    const blocks = blocksFor(this.limits, value.length);
    const victims = this.victimsFor(key, blocks);
    for (const victim of victims) this.remove(victim);
    this.remove(key);
    const entry: StoredEntry = { value: Buffer.from(value), contentType: meta.contentType ?? contentTypeFor(key), expiresAt: meta.expiresAt, blocks };
    this.entries.set(key, entry);
    this.blocksUsed += blocks;
    this.bytes += value.length;
    if (entry.expiresAt !== undefined) this.expiring++;
    return victims;
  }

  /** The entry, made the most recently used; an expired one is removed instead. */
  get(key: string): CacheEntry | undefined {
    const entry = this.peek(key);
    if (entry !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, entry as StoredEntry);
    }
    return entry;
  }

  /** The entry, LRU order untouched; an expired one is removed instead. */
  peek(key: string): CacheEntry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (isExpired(entry, Date.now())) {
      this.remove(key);
      return undefined;
    }
    return entry;
  }

  has(key: string): boolean {
    return this.peek(key) !== undefined;
  }

  delete(key: string): boolean {
    return this.remove(key);
  }

  clear(): void {
    this.entries.clear();
    this.blocksUsed = 0;
    this.bytes = 0;
    this.expiring = 0;
  }

  /** Makes held keys the most recently used, in the order given (reads reported by workers). */
  touch(keys: Iterable<string>): void {
    for (const key of keys) {
      const entry = this.entries.get(key);
      if (entry === undefined) continue;
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
  }

  /** Unexpired keys, least recently used first. */
  keys(): string[] {
    const now = Date.now();
    const keys: string[] = [];
    for (const [key, entry] of this.entries) if (!isExpired(entry, now)) keys.push(key);
    return keys;
  }

  /** Removes every expired entry; returns their keys. */
  sweep(now = Date.now()): string[] {
    if (this.expiring === 0) return [];
    const expired: string[] = [];
    for (const [key, entry] of this.entries) if (isExpired(entry, now)) expired.push(key);
    for (const key of expired) this.remove(key);
    return expired;
  }

  stats(): CacheStats {
    return { items: this.entries.size, maxItems: this.limits.items, blocksUsed: this.blocksUsed, blocks: this.limits.blocks, blocksize: this.limits.blocksize, bytes: this.bytes };
  }

  /** Every entry, least recently used first, as puts a new replica applies in order. */
  snapshot(): CachePut[] {
    return [...this.entries].map(([key, { value, contentType, expiresAt }]) => ({ op: 'put', key, value, contentType, expiresAt }));
  }

  /**
   * The keys to remove before `key` (of `blocks` blocks) fits: expired entries, then (with
   * purge_lru) the least recently used. Decided before anything is removed, so a set that
   * must fail leaves the cache as it was.
   */
  private victimsFor(key: string, blocks: number): string[] {
    const replaced = this.entries.get(key)?.blocks;
    let usage = { items: this.entries.size, blocksUsed: this.blocksUsed };
    if (fits(this.limits, usage, blocks, replaced)) return [];
    const victims = new Set<string>();
    const take = (victim: string, entry: StoredEntry): boolean => {
      victims.add(victim);
      usage = { items: usage.items - 1, blocksUsed: usage.blocksUsed - entry.blocks };
      return fits(this.limits, usage, blocks, replaced);
    };
    const now = Date.now();
    if (this.expiring > 0) {
      for (const [victim, entry] of this.entries) {
        if (victim !== key && isExpired(entry, now) && take(victim, entry)) return [...victims];
      }
    }
    if (!this.limits.purgeLru) throw noRoomError(this.limits, key, { items: this.entries.size, blocksUsed: this.blocksUsed });
    for (const [victim, entry] of this.entries) {
      if (victim !== key && !victims.has(victim) && take(victim, entry)) return [...victims];
    }
    // Unreachable: checkValueSize guarantees the value fits an empty cache.
    throw noRoomError(this.limits, key, usage);
  }

  private remove(key: string): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.entries.delete(key);
    this.blocksUsed -= entry.blocks;
    this.bytes -= entry.value.length;
    if (entry.expiresAt !== undefined) this.expiring--;
    return true;
  }
}

export function isExpired(entry: CacheEntry, now: number): boolean {
  return entry.expiresAt !== undefined && entry.expiresAt < now;
}

/** A store for one configured cache, holding its --load-file-in-cache entries in order. */
export function createStore(config: CacheConfig): CacheStore {
  const { preload, ...limits } = config;
  const store = new CacheStore(limits);
  for (const entry of preload) {
    try {
      store.set(entry.key, entry.value, { contentType: entry.contentType });
    } catch (error) {
      // The command line checks these first; this is the backstop, reported the same way.
      throw new ConfigError('--load-file-in-cache', `${entry.file}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return store;
}
