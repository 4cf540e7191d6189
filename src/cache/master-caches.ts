// The master's side of the caches: the authoritative stores, filled from --load-file-in-cache
// before any worker starts. It applies workers' writes in the order they arrive and says what
// to broadcast (every change, evictions included) and what to answer the writer; the master
// process does the sending. Expired entries are swept here so that replicas drop them too.

import type { CacheConfig, SpryConfig } from '../config/config.ts';
import { SpryError } from '../errors.ts';
import type { CacheChange, CacheNotice, CacheRequest, CacheSnapshot } from './cache-messages.ts';
import { createStore, type CacheStore } from './cache-store.ts';

/** How often expired entries are looked for (uWSGI's cache sweeper also runs every few seconds). */
export const SWEEP_INTERVAL_MS = 1000;

export interface CacheOutcome {
  /** For every worker, the writer included. */
  readonly broadcast?: CacheNotice;
  /** For the writer, after the broadcast. */
  readonly reply?: CacheNotice;
}

export class MasterCaches {
  private readonly stores = new Map<string, CacheStore>();

  /** Throws a ConfigError if a preloaded entry does not fit. */
  constructor(configs: readonly CacheConfig[]) {
    for (const config of configs) this.stores.set(config.name, createStore(config));
  }

  get size(): number {
    return this.stores.size;
  }

  /** Every cache's entries, least recently used first, for a worker about to start. */
  snapshot(): CacheSnapshot[] {
    return [...this.stores.values()].map((store) => ({ name: store.name, entries: store.snapshot() }));
  }

  handle(request: CacheRequest): CacheOutcome {
    if (request.type === 'cache-touch') {
      for (const { cache, keys } of request.touched) this.stores.get(cache)?.touch(keys);
      return {};
    }
    const store = this.stores.get(request.cache);
    if (store === undefined) return { reply: { type: 'cache-failed', id: request.id, code: 'SPRY_ERR_CACHE', message: `no cache named ${JSON.stringify(request.cache)}` } };
    let changes: CacheChange[];
    try {
      changes = apply(store, request);
    } catch (error) {
      const code = error instanceof SpryError ? error.code : 'SPRY_ERR_CACHE';
      return { reply: { type: 'cache-failed', id: request.id, code, message: error instanceof Error ? error.message : String(error) } };
    }
    const reply: CacheNotice = { type: 'cache-done', id: request.id, changed: changes.length > 0 };
    return changes.length === 0 ? { reply } : { broadcast: { type: 'cache-changes', cache: store.name, changes }, reply };
  }

  /** Removes expired entries; the deletions to broadcast, one notice per cache that had any. */
  sweep(now = Date.now()): CacheNotice[] {
    const notices: CacheNotice[] = [];
    for (const store of this.stores.values()) {
      const expired = store.sweep(now);
      if (expired.length > 0) notices.push({ type: 'cache-changes', cache: store.name, changes: expired.map((key) => ({ op: 'delete', key })) });
    }
    return notices;
  }
}

function apply(store: CacheStore, request: Exclude<CacheRequest, { type: 'cache-touch' }>): CacheChange[] {
  switch (request.type) {
    case 'cache-set': {
      const { key, value, contentType, expiresAt } = request;
      const evicted = store.set(key, value, { contentType, expiresAt });
      return [...evicted.map((victim): CacheChange => ({ op: 'delete', key: victim })), { op: 'put', key, value, contentType, expiresAt }];
    }
    case 'cache-delete':
      return store.delete(request.key) ? [{ op: 'delete', key: request.key }] : [];
    case 'cache-clear':
      store.clear();
      return [{ op: 'clear' }];
  }
}

/** The configuration a worker gets: its caches come from the snapshot, not from the files. */
export function withoutPreload(config: SpryConfig): SpryConfig {
  return { ...config, caches: config.caches.map((cache) => ({ ...cache, preload: [] })) };
}
