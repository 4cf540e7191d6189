// `--cache2 name=N,items=I[,blocksize=B][,blocks=K][,keysize=S][,bitmap=1][,purge_lru=0]`: one
// in-memory cache, in uWSGI's keyval words, and `--load-file-in-cache [CACHE ]FILE` (uWSGI's:
// the key is FILE as written) or `[CACHE ]/url/path=FILE` (spry's: the key is the URL path that
// push and the app look it up by; a directory loads every file under it, keyed below the path).
// Files are read and checked against their cache's limits at startup: a file that cannot be read
// or cannot fit is a configuration error, not a cache that is quietly missing it.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { contentTypeFor } from '../cache/content-type.ts';
import { blocksFor } from '../cache/limits.ts';
import { DEFAULTS, type CacheConfig, type CachePreload } from '../config/config.ts';
import { ConfigError } from '../errors.ts';
import { parseKeyval } from './keyval.ts';
import { parseBit, parseInteger, type IntegerRange } from './numbers.ts';

const KNOWN_KEYS = ['name', 'items', 'blocksize', 'blocks', 'keysize', 'bitmap', 'purge_lru'] as const;
type CacheKey = (typeof KNOWN_KEYS)[number];

const RANGES: Record<'items' | 'blocksize' | 'blocks' | 'keysize', IntegerRange> = {
  items: { min: 1, max: 10_000_000, unit: 'items' },
  blocksize: { min: 1, max: 1 << 30, unit: 'bytes' },
  blocks: { min: 1, max: 100_000_000, unit: 'blocks' },
  keysize: { min: 1, max: 65_535, unit: 'bytes' },
};

/** A cache as --cache2 gives it, before --load-file-in-cache entries are added. */
export type CacheDraft = Omit<CacheConfig, 'preload'>;

export function parseCache2(option: string, text: string): CacheDraft {
  const pairs = new Map<CacheKey, string>();
  for (const { key, value } of parseKeyval(option, text)) {
    if (!(KNOWN_KEYS as readonly string[]).includes(key)) {
      throw new ConfigError(option, `unknown key "${key}" (known: ${KNOWN_KEYS.join(', ')})`);
    }
    if (pairs.has(key as CacheKey)) throw new ConfigError(option, `${key}= given twice`);
    pairs.set(key as CacheKey, value);
  }
  const name = pairs.get('name');
  if (name === undefined || name === '') throw new ConfigError(option, `"${text}" has no name= (e.g. name=assets,items=100)`);
  const itemsText = pairs.get('items');
  if (itemsText === undefined) throw new ConfigError(option, `"${text}" has no items= (the most entries it may hold)`);
  const number = (key: keyof typeof RANGES, fallback: number): number => {
    const value = pairs.get(key);
    return value === undefined ? fallback : parseInteger(option, `${key}=${value}`, value, RANGES[key]);
  };
  const bit = (key: CacheKey, fallback: boolean): boolean => {
    const value = pairs.get(key);
    return value === undefined ? fallback : parseBit(option, key, value);
  };
  const items = number('items', 0);
  return {
    name,
    items,
    blocksize: number('blocksize', DEFAULTS.cache.blocksize),
    blocks: number('blocks', items),
    keysize: number('keysize', DEFAULTS.cache.keysize),
    bitmap: bit('bitmap', false),
    purgeLru: bit('purge_lru', true),
  };
}

/** One --load-file-in-cache as written, resolved once every --cache2 is known. */
export interface LoadFileRequest {
  readonly raw: string;
  readonly text: string;
}

/** Reads every requested file into its cache's preload list, checking the cache's limits. */
export function loadFilesIntoCaches(caches: readonly CacheDraft[], requests: readonly LoadFileRequest[]): CacheConfig[] {
  const preloads = new Map<string, Map<string, CachePreload>>(caches.map((cache) => [cache.name, new Map()]));
  for (const { raw, text } of requests) {
    if (caches.length === 0) throw new ConfigError(raw, `${text}: there is no cache to load it into (add --cache2 name=…,items=…)`);
    const { cacheName, spec } = splitCacheName(text, caches);
    const cache = caches.find((candidate) => candidate.name === cacheName)!;
    const entries = preloads.get(cache.name)!;
    for (const entry of readSpec(raw, spec)) {
      checkFits(raw, cache, entry);
      entries.delete(entry.key); // a later load of the same key replaces it, as the newest
      entries.set(entry.key, entry);
    }
  }
  return caches.map((cache) => {
    const entries = [...preloads.get(cache.name)!.values()];
    checkCapacity(cache, entries);
    return { ...cache, preload: entries };
  });
}

/** `CACHE SPEC` names a cache when the word before the first space is one; else the default. */
function splitCacheName(text: string, caches: readonly CacheDraft[]): { cacheName: string; spec: string } {
  const space = text.indexOf(' ');
  if (space > 0) {
    const word = text.slice(0, space);
    if (caches.some((cache) => cache.name === word)) return { cacheName: word, spec: text.slice(space + 1).trim() };
  }
  return { cacheName: caches[0].name, spec: text };
}

function readSpec(raw: string, spec: string): CachePreload[] {
  if (spec === '') throw new ConfigError(raw, 'needs a file (FILE, or /url/path=FILE)');
  const equals = spec.indexOf('=');
  const mapped = spec.startsWith('/') && equals > 0 && !spec.slice(0, equals).includes(' ');
  const key = mapped ? spec.slice(0, equals) : spec;
  const file = mapped ? spec.slice(equals + 1) : spec;
  if (file === '') throw new ConfigError(raw, `${spec}: no file after =`);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(file).isDirectory();
  } catch (error) {
    throw new ConfigError(raw, `${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  if (!isDirectory) return [readOne(raw, key, file)];
  if (!mapped) throw new ConfigError(raw, `${file} is a directory: map it to a URL path, e.g. /static=${file}`);
  const prefix = key.endsWith('/') ? key : `${key}/`;
  return filesUnder(file).map((relative) => readOne(raw, prefix + relative, join(file, relative)));
}

function readOne(raw: string, key: string, file: string): CachePreload {
  let value: Buffer;
  try {
    value = readFileSync(file);
  } catch (error) {
    throw new ConfigError(raw, `${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return { key, value, contentType: contentTypeFor(key), file };
}

/** Regular files under `dir`, as relative paths with `/`, in a stable order. */
function filesUnder(dir: string): string[] {
  const entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length).replace(/^[/\\]+/, '').split('\\').join('/'))
    .sort();
}

function checkFits(raw: string, cache: CacheDraft, entry: CachePreload): void {
  const where = `${entry.file} (key ${entry.key}) in cache "${cache.name}"`;
  if (Buffer.byteLength(entry.key) > cache.keysize) throw new ConfigError(raw, `${where}: the key is longer than keysize=${cache.keysize}`);
  const size = entry.value.length;
  if (!cache.bitmap && size > cache.blocksize) {
    throw new ConfigError(raw, `${where}: ${size} bytes do not fit blocksize=${cache.blocksize} (raise blocksize=, or bitmap=1 to span blocks)`);
  }
  if (blocksFor(cache, size) > cache.blocks) {
    throw new ConfigError(raw, `${where}: ${size} bytes do not fit the cache's ${cache.blocks} blocks of ${cache.blocksize} bytes`);
  }
}

function checkCapacity(cache: CacheDraft, entries: readonly CachePreload[]): void {
  if (entries.length > cache.items) {
    throw new ConfigError('--load-file-in-cache', `${entries.length} files for cache "${cache.name}", which holds items=${cache.items}`);
  }
  const blocks = entries.reduce((sum, entry) => sum + blocksFor(cache, entry.value.length), 0);
  if (blocks > cache.blocks) {
    throw new ConfigError('--load-file-in-cache', `the files for cache "${cache.name}" need ${blocks} blocks of ${cache.blocksize} bytes; it has blocks=${cache.blocks}`);
  }
}
