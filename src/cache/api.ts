// spry's cache for apps (`spry/cache`): the --cache2 caches, shared by every worker of a master.
//
//   import { cache } from 'spry/cache';
//   const page = cache().get('/index.html');                 // synchronous, local
//   await cache('sessions').set(id, json, { expires: 600 }); // seen by every worker
//
// Reads come from this process's copy and count as uses for LRU eviction; writes go through
// the master (without one, straight to the process's store) and resolve once this process
// reads them back. Limits are the --cache2 ones; breaking one rejects with a SpryError whose
// code is SPRY_ERR_CACHE.

import { SpryError } from '../errors.ts';
import { cacheNames, findCache } from './registry.ts';
import type { SpryCache } from './spry-cache.ts';

export type { CachedResponse, CacheSetOptions, CacheStats, SpryCache } from './spry-cache.ts';
export { cacheNames } from './registry.ts';

/** The cache named `name`, or the first --cache2 one; throws if there is no such cache. */
export function cache(name?: string): SpryCache {
  const found = findCache(name);
  if (found !== undefined) return found;
  const names = cacheNames();
  if (names.length === 0) throw new SpryError('SPRY_ERR_CACHE', 'spry/cache: no cache is configured (start spry with --cache2 name=NAME,items=N)');
  throw new SpryError('SPRY_ERR_CACHE', `spry/cache: no cache named ${JSON.stringify(name)} (caches: ${names.join(', ')})`);
}
