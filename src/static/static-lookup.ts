// Finds the file a request names under the static mounts, on the resolved path: a symlink that
// leads out of its root is refused like `..`, a directory is served by its index file (if
// --static-index names one), and anything missing is left to the app, as uWSGI does. With
// --static-cache-paths, what was found is kept for a while (open-file-cache.ts). A path with no
// symlink below its root is opened as it is (openUnfollowed); only one with a symlink on the
// way is resolved with realpath.
//
// The file-system calls are synchronous, as an nginx worker makes them (open, fstat, and for a
// small file one read): on local files in the page cache each costs microseconds,
// where a hop through libuv's thread pool per call doubled a 4 KiB file's CPU per request
// (~130 -> ~68 us uncached). A large file's body is still read asynchronously (file-pump.ts).
// The cost: a slow disk or network file system stalls this process's other requests meanwhile.

import { closeSync, fstatSync, lstatSync, openSync, readSync, realpathSync, constants as fsConstants, type Stats } from 'node:fs';
import { extname, sep } from 'node:path';
import { describeFile, type FileDescription } from './file-description.ts';
import { SMALL_FILE_BYTES, type CachedFacts, type OpenFileCache } from './open-file-cache.ts';
import type { StaticFilesConfig } from './static-config.ts';
import { staticCandidates } from './static-path.ts';

/**
 * An open file to serve (the caller closes fd), a small file's bytes (read whole, or the
 * cache's), a refusal (403), or nothing here (the app's).
 */
export type StaticLookup =
  | { readonly kind: 'file'; readonly fd: number; readonly file: FileDescription }
  | { readonly kind: 'bytes'; readonly bytes: Buffer; readonly file: FileDescription }
  | { readonly kind: 'refused' }
  | { readonly kind: 'none' };

/** What one look on the file system finds: a file with its full stat, or nothing / a refusal. */
type Opened = { readonly kind: 'file'; readonly fd: number; readonly stats: Stats; readonly path: string } | typeof NONE | typeof REFUSED;

const NONE = { kind: 'none' } as const;
const REFUSED = { kind: 'refused' } as const;

export function lookupStatic(config: StaticFilesConfig, target: string, cache?: OpenFileCache): StaticLookup {
  if (cache !== undefined) return cachedLookup(cache, config, target);
  const found = openFirst(config, target);
  if (found.kind !== 'file') return found;
  return bodyOf(found.fd, describeFile(found.path, found.stats), false).lookup;
}

/** The first candidate's file under the mounts and check dirs, or the first refusal, or none. */
function openFirst(config: StaticFilesConfig, target: string): Opened {
  for (const candidate of staticCandidates(config, target)) {
    if (candidate.kind === 'refused') return REFUSED;
    if (candidate.kind === 'none') continue;
    const found = openInside(config, candidate.path, candidate.root, true);
    if (found !== NONE) return found;
  }
  return NONE;
}

/** The cache's entry for target's URL path, or a fresh lookup that fills it. */
function cachedLookup(cache: OpenFileCache, config: StaticFilesConfig, target: string): StaticLookup {
  const key = urlPathOf(target);
  const cached = cache.get(key);
  if (cached !== undefined) {
    if (cached.kind !== 'file') return cached.kind === 'none' ? NONE : REFUSED;
    if (cached.bytes !== undefined) return { kind: 'bytes', bytes: cached.bytes, file: cached.file };
    const fd = reopen(cached.file.path, cached.file.facts);
    if (fd !== undefined) return { kind: 'file', fd, file: cached.file };
    cache.delete(key); // replaced or changed since: look it up afresh
  }
  const found = openFirst(config, target);
  if (found.kind !== 'file') {
    cache.set(key, found);
    return found;
  }
  const stats = found.stats;
  const file = describeFile(found.path, { size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino, dev: stats.dev });
  const { lookup, bytes } = bodyOf(found.fd, file, true);
  cache.set(key, { kind: 'file', file, bytes });
  return lookup;
}

/**
 * A small file read whole (and fd closed), or the open file to pump; bytes undefined if it did
 * not read as its size (it changed). `kept`: the bytes go into the cache, in memory of their own.
 */
function bodyOf(fd: number, file: FileDescription, kept: boolean): { readonly lookup: StaticLookup; readonly bytes: Buffer | undefined } {
  const bytes = file.facts.size <= SMALL_FILE_BYTES ? readWhole(fd, file.facts.size, kept) : undefined;
  if (bytes === undefined) return { lookup: { kind: 'file', fd, file }, bytes };
  closeQuietly(fd);
  return { lookup: { kind: 'bytes', bytes, file }, bytes };
}

function urlPathOf(target: string): string {
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}

/** A large file's real path opened again: served only if it is still the inode that was checked. */
function reopen(path: string, facts: CachedFacts): number | undefined {
  const fd = openReadOnly(path);
  if (fd === undefined) return undefined;
  const stats = fstatOf(fd);
  if (stats === undefined || stats.ino !== facts.ino || stats.dev !== facts.dev || stats.size !== facts.size || stats.mtimeMs !== facts.mtimeMs) {
    closeQuietly(fd);
    return undefined;
  }
  return fd;
}

/**
 * The whole of a small file, or undefined if it did not read as `size` bytes (it changed). Kept
 * in the cache, in memory of its own, so the cache counts what it holds; sent once and dropped,
 * a slice of a shared slab (an ArrayBuffer of its own per request cost ~2 us in allocation).
 */
function readWhole(fd: number, size: number, kept: boolean): Buffer | undefined {
  const buffer = kept ? Buffer.allocUnsafeSlow(size) : slabSlice(size);
  try {
    return size === 0 || readSync(fd, buffer, 0, size, 0) === size ? buffer : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Uncached small files' bytes (up to a quarter of it) are cut from this, as Buffer.allocUnsafe
 * cuts its own below 4 KiB. A response still sending holds its whole slab: a client that stops
 * reading pins at most this much through the slice it was sent (its socket holds more).
 */
const SLAB_BYTES = 64 << 10;
let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabUsed = 0;

/** `size` bytes no one else holds: a slab outlives the responses still sending its slices. */
function slabSlice(size: number): Buffer {
  if (size > SLAB_BYTES - slabUsed) {
    if (size > SLAB_BYTES / 4) return Buffer.allocUnsafeSlow(size);
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const slice = slab.subarray(slabUsed, slabUsed + size);
  slabUsed += (size + 7) & ~7; // 8-byte aligned, as Node's pool keeps its slices
  return slice;
}

function openInside(config: StaticFilesConfig, path: string, root: string, mayIndex: boolean): Opened {
  let real = path;
  let fd = openUnfollowed(path, root);
  if (fd === SYMLINK) {
    // A symlink on the way: where it leads decides (inside the root it is served).
    const resolved = realpathOf(path);
    if (resolved === undefined) return NONE;
    if (resolved !== root && !resolved.startsWith(root + sep)) return REFUSED;
    real = resolved;
    fd = openReadOnly(real);
  }
  if (fd === undefined) return NONE;
  const stats = fstatOf(fd);
  if (stats?.isFile() === true) {
    if (config.skipExtensions.includes(extname(real).toLowerCase())) {
      closeQuietly(fd);
      return NONE;
    }
    return { kind: 'file', fd, stats, path: real };
  }
  closeQuietly(fd);
  if (stats?.isDirectory() !== true || !mayIndex) return NONE;
  for (const name of config.index) {
    const found = openInside(config, real + sep + name, root, false);
    if (found !== NONE) return found;
  }
  return NONE;
}

/**
 * `path` (`root`, or under it: root is a real path, resolved at startup) opened without
 * following a symlink below the root: the directories between them checked with lstat (none
 * for a file in the root itself), the file opened with O_NOFOLLOW. What opens is then its own
 * real path, as realpath would have said, without realpath's readlink for every component of
 * the whole path (4 for /srv/site/style.css). SYMLINK when one is on the way (or the platform
 * has no O_NOFOLLOW), undefined when nothing is there.
 */
function openUnfollowed(path: string, root: string): number | typeof SYMLINK | undefined {
  if (NO_FOLLOW === undefined) return SYMLINK;
  try {
    for (let slash = path.indexOf(sep, root.length + 1); slash !== -1; slash = path.indexOf(sep, slash + 1)) {
      const stats = lstatSync(path.slice(0, slash), { throwIfNoEntry: false });
      if (stats === undefined) return undefined;
      if (!stats.isDirectory()) return stats.isSymbolicLink() ? SYMLINK : undefined;
    }
    // O_NONBLOCK: a FIFO planted in the directory must not block the open.
    return openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | NO_FOLLOW);
  } catch (error) {
    // Linux and macOS say ELOOP for a symlink O_NOFOLLOW met, FreeBSD EMLINK.
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ELOOP' || code === 'EMLINK' ? SYMLINK : undefined;
  }
}

const SYMLINK = Symbol('symlink');
const NO_FOLLOW: number | undefined = fsConstants.O_NOFOLLOW;

function realpathOf(path: string): string | undefined {
  try {
    return realpathSync.native(path);
  } catch {
    return undefined;
  }
}

function openReadOnly(path: string): number | undefined {
  // O_NONBLOCK: a FIFO planted in the directory must not block the open.
  try {
    return openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch {
    return undefined;
  }
}

function fstatOf(fd: number): Stats | undefined {
  try {
    return fstatSync(fd);
  } catch {
    return undefined;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed: nothing held
  }
}
