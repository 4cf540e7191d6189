// Finds the file a request names under the static mounts, on the resolved path: a symlink that
// leads out of its root is refused like `..`, a directory is served by its index file (if
// --static-index names one), and anything missing is left to the app, as uWSGI does.

import { close, fstat, open, realpath, constants as fsConstants, type Stats } from 'node:fs';
import { extname, sep } from 'node:path';
import type { StaticFilesConfig } from './static-config.ts';
import { staticCandidates } from './static-path.ts';

/** An open file to serve (the caller closes fd), a refusal (403), or nothing here (the app's). */
export type StaticLookup =
  | { readonly kind: 'file'; readonly fd: number; readonly stats: Stats; readonly path: string }
  | { readonly kind: 'refused' }
  | { readonly kind: 'none' };

const NONE: StaticLookup = { kind: 'none' };
const REFUSED: StaticLookup = { kind: 'refused' };

export async function lookupStatic(config: StaticFilesConfig, target: string): Promise<StaticLookup> {
  for (const candidate of staticCandidates(config, target)) {
    if (candidate.kind === 'refused') return REFUSED;
    if (candidate.kind === 'none') continue;
    const found = await openInside(config, candidate.path, candidate.root, true);
    if (found !== NONE) return found;
  }
  return NONE;
}

async function openInside(config: StaticFilesConfig, path: string, root: string, mayIndex: boolean): Promise<StaticLookup> {
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
