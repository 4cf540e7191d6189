// Finds the file a request names under the static mounts, on the resolved path: a symlink that
// leads out of its root is refused like `..`, a directory is served by its index file (if
// --static-index names one), and anything missing is left to the app, as uWSGI does. With
// --static-cache-paths, what was found is kept for a while (open-file-cache.ts).

import { close, fstat, open, read, realpath, constants as fsConstants, type Stats } from 'node:fs';
import { extname, sep } from 'node:path';
import type { FileFacts } from './conditional.ts';
import { SMALL_FILE_BYTES, type CachedFacts, type OpenFileCache } from './open-file-cache.ts';
import type { StaticFilesConfig } from './static-config.ts';
import { staticCandidates } from './static-path.ts';

/**
 * An open file to serve (the caller closes fd), a small file's bytes (from the cache), a
 * refusal (403), or nothing here (the app's).
 */
export type StaticLookup =
  | { readonly kind: 'file'; readonly fd: number; readonly stats: FileFacts; readonly path: string }
  | { readonly kind: 'bytes'; readonly bytes: Buffer; readonly stats: FileFacts; readonly path: string }
  | { readonly kind: 'refused' }
  | { readonly kind: 'none' };

/** What one look on the file system finds: a file with its full stat, or nothing / a refusal. */
type Opened = { readonly kind: 'file'; readonly fd: number; readonly stats: Stats; readonly path: string } | typeof NONE | typeof REFUSED;

const NONE = { kind: 'none' } as const;
const REFUSED = { kind: 'refused' } as const;

export async function lookupStatic(config: StaticFilesConfig, target: string, cache?: OpenFileCache): Promise<StaticLookup> {
  for (const candidate of staticCandidates(config, target)) {
    if (candidate.kind === 'refused') return REFUSED;
    if (candidate.kind === 'none') continue;
    const found = cache === undefined
      ? await openInside(config, candidate.path, candidate.root, true)
      : await cachedOpenInside(cache, config, candidate.path, candidate.root);
    if (found !== NONE) return found;
  }
  return NONE;
}

/** The cache's entry for `path` under `root`, or a fresh lookup that fills it. */
async function cachedOpenInside(cache: OpenFileCache, config: StaticFilesConfig, path: string, root: string): Promise<StaticLookup> {
  // The root is part of the key: the same path under two mounts may be inside one root only.
  const key = `${root}\0${path}`;
  const cached = cache.get(key);
  if (cached !== undefined) {
    if (cached.kind !== 'file') return cached.kind === 'none' ? NONE : REFUSED;
    if (cached.bytes !== undefined) return { kind: 'bytes', bytes: cached.bytes, stats: cached.facts, path: cached.path };
    const reopened = await reopen(cached.path, cached.facts);
    if (reopened !== undefined) return reopened;
    cache.delete(key); // replaced or changed since: look it up afresh
  }
  const found = await openInside(config, path, root, true);
  if (found.kind !== 'file') {
    cache.set(key, found);
    return found;
  }
  const stats = found.stats;
  const facts: CachedFacts = { size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino, dev: stats.dev };
  const bytes = facts.size <= SMALL_FILE_BYTES ? await readWhole(found.fd, facts.size) : undefined;
  cache.set(key, { kind: 'file', path: found.path, facts, bytes });
  if (bytes === undefined) return { ...found, stats: facts };
  close(found.fd, ignore);
  return { kind: 'bytes', bytes, stats: facts, path: found.path };
}

/** A large file's real path opened again: served only if it is still the inode that was checked. */
async function reopen(path: string, facts: CachedFacts): Promise<StaticLookup | undefined> {
  const fd = await openReadOnly(path);
  if (fd === undefined) return undefined;
  const stats = await fstatOf(fd);
  if (stats === undefined || stats.ino !== facts.ino || stats.dev !== facts.dev || stats.size !== facts.size || stats.mtimeMs !== facts.mtimeMs) {
    close(fd, ignore);
    return undefined;
  }
  return { kind: 'file', fd, stats: facts, path };
}

/** The whole of a small file, or undefined if it did not read as `size` bytes (it changed). */
function readWhole(fd: number, size: number): Promise<Buffer | undefined> {
  if (size === 0) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve) => read(fd, Buffer.allocUnsafe(size), 0, size, 0, (error, bytes, buffer) => resolve(error === null && bytes === size ? buffer : undefined)));
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
