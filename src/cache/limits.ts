// The --cache2 limits, checked in one place: by the authoritative store, and by a worker before
// it bothers the master with a write that must fail (the same check gives the same message).
// As in uWSGI, a value takes whole blocks: without bitmap=1 exactly one, so blocksize is the
// largest value; with bitmap=1 as many as it needs, so the largest is blocks × blocksize.

import type { CacheConfig } from '../config/config.ts';
import { SpryError } from '../errors.ts';

export type CacheLimits = Omit<CacheConfig, 'preload'>;

/** What a cache holds now, as far as the limits care. */
export interface CacheUsage {
  readonly items: number;
  readonly blocksUsed: number;
}

/** Longest key shown in a message; longer ones are cut. */
const MAX_KEY_SHOWN = 64;

export function blocksFor(limits: CacheLimits, bytes: number): number {
  return Math.max(1, Math.ceil(bytes / limits.blocksize));
}

export function describeKey(key: string): string {
  return JSON.stringify(key.length > MAX_KEY_SHOWN ? `${key.slice(0, MAX_KEY_SHOWN)}…` : key);
}

export function checkKey(limits: CacheLimits, key: unknown): asserts key is string {
  if (typeof key !== 'string') throw cacheError(limits, `a key must be a string, not ${key === null ? 'null' : typeof key}`);
  if (key === '') throw cacheError(limits, 'a key must not be empty');
  const bytes = Buffer.byteLength(key);
  if (bytes > limits.keysize) throw cacheError(limits, `key ${describeKey(key)} is ${bytes} bytes, more than keysize=${limits.keysize}`);
}

export function checkValueSize(limits: CacheLimits, key: string, bytes: number): void {
  if (!limits.bitmap && bytes > limits.blocksize) {
    throw cacheError(limits, `the value for ${describeKey(key)} is ${bytes} bytes, more than blocksize=${limits.blocksize} (bitmap=1 lets values span blocks)`);
  }
  if (blocksFor(limits, bytes) > limits.blocks) {
    throw cacheError(limits, `the value for ${describeKey(key)} is ${bytes} bytes, more than the cache holds (blocks=${limits.blocks} × blocksize=${limits.blocksize})`);
  }
}

/** Whether an entry of `blocks` blocks fits, given what replacing `key` frees (`replacedBlocks`, if held). */
export function fits(limits: CacheLimits, usage: CacheUsage, blocks: number, replacedBlocks: number | undefined): boolean {
  const items = usage.items + (replacedBlocks === undefined ? 1 : 0);
  return items <= limits.items && usage.blocksUsed - (replacedBlocks ?? 0) + blocks <= limits.blocks;
}

export function noRoomError(limits: CacheLimits, key: string, usage: CacheUsage): SpryError {
  return cacheError(
    limits,
    `no room for ${describeKey(key)} (${usage.items} of items=${limits.items}, ${usage.blocksUsed} of blocks=${limits.blocks} in use) and purge_lru=0 forbids evicting`,
  );
}

export function cacheError(limits: { readonly name: string }, message: string): SpryError {
  return new SpryError('SPRY_ERR_CACHE', `cache "${limits.name}": ${message}`);
}
