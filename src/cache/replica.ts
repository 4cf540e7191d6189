// A worker's copy of one of the master's caches: what the master broadcast, applied in order.
// It decides nothing (no eviction, no LRU order: the master does both); it answers reads and
// mirrors the usage figures so a worker can refuse a write that must fail without asking.

import type { CacheChange } from './cache-messages.ts';
import { isExpired, type CacheEntry } from './cache-store.ts';
import { blocksFor, type CacheLimits, type CacheUsage } from './limits.ts';
import type { CacheStats } from './spry-cache.ts';

export class CacheReplica {
  readonly limits: CacheLimits;
  private readonly entries = new Map<string, CacheEntry>();
  private blocksUsed = 0;
  private bytes = 0;

  constructor(limits: CacheLimits) {
    this.limits = limits;
  }

  get size(): number {
    return this.entries.size;
  }

  apply(changes: readonly CacheChange[]): void {
    for (const change of changes) {
      if (change.op === 'clear') {
        this.entries.clear();
        this.blocksUsed = 0;
        this.bytes = 0;
        continue;
      }
      this.remove(change.key);
      if (change.op === 'delete') continue;
      // Advanced serialization may hand a Buffer back as a plain Uint8Array: view it, no copy.
      const { value } = change;
      const buffer = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      this.entries.set(change.key, { value: buffer, contentType: change.contentType, expiresAt: change.expiresAt });
      this.blocksUsed += blocksFor(this.limits, buffer.length);
      this.bytes += buffer.length;
    }
  }

  /** The entry unless it is missing or expired (the master's sweep will delete it). */
  get(key: string): CacheEntry | undefined {
    const entry = this.entries.get(key);
    return entry === undefined || isExpired(entry, Date.now()) ? undefined : entry;
  }

  /** Blocks the held entry for `key` uses, if any. */
  blocksOf(key: string): number | undefined {
    const entry = this.entries.get(key);
    return entry === undefined ? undefined : blocksFor(this.limits, entry.value.length);
  }

  /** Unexpired keys, in the order the master last wrote them (its LRU order also counts reads). */
  keys(): string[] {
    const now = Date.now();
    const keys: string[] = [];
    for (const [key, entry] of this.entries) if (!isExpired(entry, now)) keys.push(key);
    return keys;
  }

  usage(): CacheUsage {
    return { items: this.entries.size, blocksUsed: this.blocksUsed };
  }

  stats(): CacheStats {
    return { items: this.entries.size, maxItems: this.limits.items, blocksUsed: this.blocksUsed, blocks: this.limits.blocks, blocksize: this.limits.blocksize, bytes: this.bytes };
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.blocksUsed -= blocksFor(this.limits, entry.value.length);
    this.bytes -= entry.value.length;
  }
}
