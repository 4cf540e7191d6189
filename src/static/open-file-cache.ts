// --static-cache-paths SECONDS: what a static lookup found, kept for that long, in the manner of
// nginx's open_file_cache (uWSGI's option caches the resolved path; this also keeps the stat
// and, for small files, the bytes). A hit for a small file costs no file-system call at all; a
// large one costs open and fstat (its real path is not resolved again). An entry is dropped
// once SECONDS have passed since it was looked up, so a changed, added or removed file is seen
// at most SECONDS late: the staleness bound. The key is the request's URL path (the query cut
// off), so a hit costs no path checks either, and the whole lookup's verdict is cached with it
// (the file found and its real path, a refusal, or no file: the app's); a large file's hit
// serves only the inode that verdict was about. A file's entry also keeps its description (the
// validators, type and 200 head), built once when the entry is filled.

import type { FileFacts } from './conditional.ts';
import type { FileDescription } from './file-description.ts';

/** What a lookup under one key found: the file (its bytes if small), or nothing / a refusal. */
export type CachedLookup =
  | { readonly kind: 'file'; readonly file: FileDescription<CachedFacts>; readonly bytes: Buffer | undefined }
  | { readonly kind: 'refused' }
  | { readonly kind: 'none' };

export interface CachedFacts extends FileFacts {
  readonly ino: number;
  readonly dev: number;
}

/** A file up to this size is kept in memory whole (nginx's default output buffer is 32 KiB). */
export const SMALL_FILE_BYTES = 64 << 10;
/** All the kept bytes together (file bytes and keys); the least recently used entries go first past it. */
export const MAX_CACHED_BYTES = 16 << 20;
/** Keys (every distinct URL path looked up, found or not, so a peer cannot grow it without bound). */
export const MAX_ENTRIES = 4096;

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
    this.bytes += sizeOf(key, lookup);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= MAX_ENTRIES && this.bytes <= MAX_CACHED_BYTES) break;
      this.delete(oldest);
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.bytes -= sizeOf(key, entry.lookup);
  }

  /** For tests and stats: entries and bytes held. */
  get size(): { readonly entries: number; readonly bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}

/** A key counts too: a peer naming many long paths must not grow the cache past its bytes. */
function sizeOf(key: string, lookup: CachedLookup): number {
  return key.length + (lookup.kind === 'file' && lookup.bytes !== undefined ? lookup.bytes.length : 0);
}
