// --static-cache-paths SECONDS: what a static lookup found, kept for that long, in the manner of
// nginx's open_file_cache (uWSGI's option caches the resolved path; this also keeps the stat
// and, for small files, the bytes). A hit for a small file costs no file-system call at all; a
// large one costs open and fstat (its real path is not resolved again). An entry is dropped
// once SECONDS have passed since it was looked up, so a changed, added or removed file is seen
// at most SECONDS late: the staleness bound. The key is the checked path under its root (what
// static-path.ts let through), and the verdict on the real path (inside the root, or refused)
// is cached with it; a large file's hit serves only the inode that verdict was about.

import type { FileFacts } from './conditional.ts';

/** What a lookup under one key found: the real path and its facts, or nothing / a refusal. */
export type CachedLookup =
  | { readonly kind: 'file'; readonly path: string; readonly facts: CachedFacts; readonly bytes: Buffer | undefined }
  | { readonly kind: 'refused' }
  | { readonly kind: 'none' };

export interface CachedFacts extends FileFacts {
  readonly ino: number;
  readonly dev: number;
}

/** A file up to this size is kept in memory whole (nginx's default output buffer is 32 KiB). */
export const SMALL_FILE_BYTES = 64 << 10;
/** All the kept bytes together; the least recently used entries go first past it. */
const MAX_CACHED_BYTES = 16 << 20;
/** Keys (every distinct checked path, found or not, so a peer cannot grow it without bound). */
const MAX_ENTRIES = 4096;

interface Entry {
  readonly lookup: CachedLookup;
  readonly expiresAt: number;
}

export class OpenFileCache {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private bytes = 0;

  constructor(ttlMs: number) {
    this.ttlMs = ttlMs;
  }

  get(key: string): CachedLookup | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (performance.now() >= entry.expiresAt) {
      this.delete(key);
      return undefined;
    }
    // Most recently used last: a Map keeps insertion order.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.lookup;
  }

  set(key: string, lookup: CachedLookup): void {
    this.delete(key);
    this.entries.set(key, { lookup, expiresAt: performance.now() + this.ttlMs });
    this.bytes += sizeOf(lookup);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= MAX_ENTRIES && this.bytes <= MAX_CACHED_BYTES) break;
      this.delete(oldest);
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.bytes -= sizeOf(entry.lookup);
  }

  /** For tests and stats: entries and bytes held. */
  get size(): { readonly entries: number; readonly bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}

function sizeOf(lookup: CachedLookup): number {
  return lookup.kind === 'file' && lookup.bytes !== undefined ? lookup.bytes.length : 0;
}
