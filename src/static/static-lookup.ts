// Finds the file a request names under the static mounts, on the resolved path: a symlink that
// leads out of its root is refused like `..`, a directory is served by its index file (if
// --static-index names one), and anything missing is left to the app, as uWSGI does. With
// --static-cache-paths, what was found is kept for a while (open-file-cache.ts).

import { close, fstat, open, read, realpath, constants as fsConstants, type Stats } from 'node:fs';
import { extname, sep } from 'node:path';
import { describeFile, type FileDescription } from './file-description.ts';
import { SMALL_FILE_BYTES, type CachedFacts, type OpenFileCache } from './open-file-cache.ts';
import type { StaticFilesConfig } from './static-config.ts';
import { staticCandidates } from './static-path.ts';

/**
 * An open file to serve (the caller closes fd), a small file's bytes (from the cache), a
 * refusal (403), or nothing here (the app's).
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

export async function lookupStatic(config: StaticFilesConfig, target: string, cache?: OpenFileCache): Promise<StaticLookup> {
  if (cache !== undefined) return cachedLookup(cache, config, target);
  const found = await openFirst(config, target);
  return found.kind === 'file' ? { kind: 'file', fd: found.fd, file: describeFile(found.path, found.stats) } : found;
}

/**
 * The cache's answer for `target` when it needs no file-system call (a small file's bytes, a
 * refusal, or the app's); undefined when lookupStatic must look (a miss, or a large file).
 */
export function cachedStatic(cache: OpenFileCache, target: string): StaticLookup | undefined {
  const cached = cache.get(urlPathOf(target));
  if (cached === undefined) return undefined;
  if (cached.kind !== 'file') return cached.kind === 'none' ? NONE : REFUSED;
  return cached.bytes === undefined ? undefined : { kind: 'bytes', bytes: cached.bytes, file: cached.file };
}

/** The first candidate's file under the mounts and check dirs, or the first refusal, or none. */
async function openFirst(config: StaticFilesConfig, target: string): Promise<Opened> {
  for (const candidate of staticCandidates(config, target)) {
    if (candidate.kind === 'refused') return REFUSED;
    if (candidate.kind === 'none') continue;
    const found = await openInside(config, candidate.path, candidate.root, true);
    if (found !== NONE) return found;
  }
  return NONE;
}

/** The cache's entry for target's URL path, or a fresh lookup that fills it. */
async function cachedLookup(cache: OpenFileCache, config: StaticFilesConfig, target: string): Promise<StaticLookup> {
  const key = urlPathOf(target);
  const cached = cache.get(key);
  if (cached !== undefined) {
    if (cached.kind !== 'file') return cached.kind === 'none' ? NONE : REFUSED;
    if (cached.bytes !== undefined) return { kind: 'bytes', bytes: cached.bytes, file: cached.file };
    const fd = await reopen(cached.file.path, cached.file.facts);
    if (fd !== undefined) return { kind: 'file', fd, file: cached.file };
    cache.delete(key); // replaced or changed since: look it up afresh
  }
  const found = await openFirst(config, target);
  if (found.kind !== 'file') {
    cache.set(key, found);
    return found;
  }
  const stats = found.stats;
  const file = describeFile(found.path, { size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino, dev: stats.dev });
  const bytes = stats.size <= SMALL_FILE_BYTES ? await readWhole(found.fd, stats.size) : undefined;
  cache.set(key, { kind: 'file', file, bytes });
  if (bytes === undefined) return { kind: 'file', fd: found.fd, file };
  close(found.fd, ignore);
  return { kind: 'bytes', bytes, file };
}

function urlPathOf(target: string): string {
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}

/** A large file's real path opened again: served only if it is still the inode that was checked. */
async function reopen(path: string, facts: CachedFacts): Promise<number | undefined> {
  const fd = await openReadOnly(path);
  if (fd === undefined) return undefined;
  const stats = await fstatOf(fd);
  if (stats === undefined || stats.ino !== facts.ino || stats.dev !== facts.dev || stats.size !== facts.size || stats.mtimeMs !== facts.mtimeMs) {
    close(fd, ignore);
    return undefined;
  }
  return fd;
}

/** The whole of a small file, or undefined if it did not read as `size` bytes (it changed); in memory of its own, not a slice of the shared pool, so the cache counts what it holds. */
function readWhole(fd: number, size: number): Promise<Buffer | undefined> {
  if (size === 0) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve) => read(fd, Buffer.allocUnsafeSlow(size), 0, size, 0, (error, bytes, buffer) => resolve(error === null && bytes === size ? buffer : undefined)));
}

async function openInside(config: StaticFilesConfig, path: string, root: string, mayIndex: boolean): Promise<Opened> {
  const real = await realpathOf(path);
  if (real === undefined) return NONE;
  if (real !== root && !real.startsWith(root + sep)) return REFUSED;
  const fd = await openReadOnly(real);
  if (fd === undefined) return NONE;
  const stats = await fstatOf(fd);
  if (stats?.isFile() === true) {
    if (config.skipExtensions.includes(extname(real).toLowerCase())) {
      close(fd, ignore);
      return NONE;
    }
    return { kind: 'file', fd, stats, path: real };
  }
  close(fd, ignore);
  if (stats?.isDirectory() !== true || !mayIndex) return NONE;
  for (const name of config.index) {
    const found = await openInside(config, real + sep + name, root, false);
    if (found !== NONE) return found;
  }
  return NONE;
}

function realpathOf(path: string): Promise<string | undefined> {
  return new Promise((resolve) => realpath.native(path, (error, resolved) => resolve(error === null ? resolved : undefined)));
}

function openReadOnly(path: string): Promise<number | undefined> {
  // O_NONBLOCK: a FIFO planted in the directory must not hang a thread-pool thread.
  return new Promise((resolve) => open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK, (error, fd) => resolve(error === null ? fd : undefined)));
}

function fstatOf(fd: number): Promise<Stats | undefined> {
  return new Promise((resolve) => fstat(fd, (error, stats) => resolve(error === null ? stats : undefined)));
}

function ignore(): void {}
