// What an app passes to set(), checked and turned into what a store holds, the same way in a
// single process and in a worker (so both refuse the same writes with the same message).

import { contentTypeFor } from './content-type.ts';
import { cacheError, checkKey, checkValueSize, type CacheLimits } from './limits.ts';
import type { CacheSetOptions } from './spry-cache.ts';

export interface PreparedWrite {
  /** A view of the caller's bytes: the store (or the IPC channel) copies them. */
  readonly value: Buffer;
  readonly contentType: string;
  readonly expiresAt: number | undefined;
}

export function prepareWrite(limits: CacheLimits, key: unknown, value: unknown, options: CacheSetOptions = {}): PreparedWrite {
  checkKey(limits, key);
  let bytes: Buffer;
  if (typeof value === 'string') bytes = Buffer.from(value, 'utf8');
  else if (value instanceof Uint8Array) bytes = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  else throw cacheError(limits, `the value for key ${JSON.stringify(key)} must be a string or a Uint8Array, not ${value === null ? 'null' : typeof value}`);
  checkValueSize(limits, key, bytes.length);
  const { contentType = contentTypeFor(key), expires = 0 } = options;
  if (typeof contentType !== 'string') throw cacheError(limits, `contentType must be a string`);
  if (typeof expires !== 'number' || !Number.isFinite(expires) || expires < 0) {
    throw cacheError(limits, `expires must be a number of seconds, 0 or more (got ${String(expires)})`);
  }
  return { value: bytes, contentType, expiresAt: expires === 0 ? undefined : Date.now() + expires * 1000 };
}
