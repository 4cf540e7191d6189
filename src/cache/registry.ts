// The process's caches, by name, in --cache2 order (the first is the default): each process
// installs them once, before it loads the app. Without a master they are local stores; in a
// worker they are replicas of the master's stores (see worker-cache.ts).
//
// The registry lives on globalThis under a registered symbol, so an app that imports spry's
// cache API through another path (a second copy of this module) still finds the same caches.

import type { CacheConfig } from '../config/config.ts';
import type { CacheNotice, CacheSnapshot } from './cache-messages.ts';
import { createStore } from './cache-store.ts';
import { LocalCache } from './local-cache.ts';
import { CacheReplica } from './replica.ts';
import type { SpryCache } from './spry-cache.ts';
import { MasterLink, WorkerCache, type CacheRequestSender } from './worker-cache.ts';

interface Registry {
  readonly caches: Map<string, SpryCache>;
  readonly replicas: Map<string, CacheReplica>;
  link: MasterLink | undefined;
}

const REGISTRY = Symbol.for('spry.caches');

function registry(): Registry {
  const global = globalThis as { [REGISTRY]?: Registry };
  return (global[REGISTRY] ??= { caches: new Map(), replicas: new Map(), link: undefined });
}

function reset(): Registry {
  const current = registry();
  current.link?.lost();
  current.caches.clear();
  current.replicas.clear();
  current.link = undefined;
  return current;
}

/** A process without a master: each cache is a store of its own, filled from its preload. */
export function installLocalCaches(configs: readonly CacheConfig[]): void {
  // Built before the old ones go, so a bad preload leaves the registry as it was.
  const caches = configs.map((config) => new LocalCache(createStore(config)));
  const current = reset();
  for (const cache of caches) current.caches.set(cache.name, cache);
}

/**
 * A worker: each cache is a replica of the master's, starting from the master's snapshot;
 * `send` carries writes and read batches to the master.
 */
export function installWorkerCaches(configs: readonly CacheConfig[], snapshots: readonly CacheSnapshot[], send: CacheRequestSender): void {
  const current = reset();
  const link = new MasterLink(send);
  current.link = link;
  for (const config of configs) {
    const { preload: _preload, ...limits } = config;
    const replica = new CacheReplica(limits);
    replica.apply(snapshots.find((snapshot) => snapshot.name === config.name)?.entries ?? []);
    current.replicas.set(config.name, replica);
    current.caches.set(config.name, new WorkerCache(replica, link));
  }
}

/** A worker applies what its master says about caches (changes to replicas, answers to writes). */
export function applyCacheNotice(notice: CacheNotice): void {
  const current = registry();
  if (notice.type === 'cache-changes') current.replicas.get(notice.cache)?.apply(notice.changes);
  else current.link?.answer(notice);
}

/** A worker's master is gone: pending and later writes fail. */
export function cacheMasterGone(): void {
  registry().link?.lost();
}

/** The cache named `name`, or the first configured one when `name` is undefined. */
export function findCache(name?: string): SpryCache | undefined {
  const { caches } = registry();
  if (name !== undefined) return caches.get(name);
  return caches.values().next().value;
}

export function cacheNames(): string[] {
  return [...registry().caches.keys()];
}
