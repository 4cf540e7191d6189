// A cache in a worker: reads from the local replica, writes through the master. A write is
// checked here first (the same limits, the same message), then sent; the master applies it,
// broadcasts the changes to every worker, and answers this one after the broadcast, so once the
// promise resolves this worker reads its own write. Reads are reported to the master in a batch
// (at most once a second) so that its LRU order counts them.

import { SpryError, type ErrorCode } from '../errors.ts';
import type { CacheNotice, CacheRequest } from './cache-messages.ts';
import { cacheError, checkKey } from './limits.ts';
import type { CacheReplica } from './replica.ts';
import type { CachedResponse, CacheSetOptions, CacheStats, SpryCache } from './spry-cache.ts';
import { prepareWrite } from './write-args.ts';
import { countCacheLookup } from '../observe/counters.ts';

/** How often a worker tells the master which keys it read. */
export const TOUCH_BATCH_MS = 1000;

/** Hands a request to the IPC channel; `onError` is called if it cannot be delivered. */
export type CacheRequestSender = (request: CacheRequest, onError: (error: Error) => void) => void;

type CacheWrite = Exclude<CacheRequest, { type: 'cache-touch' }>;

/** The worker's end of the conversation with the master, shared by all its caches. */
export class MasterLink {
  private readonly send: CacheRequestSender;
  private readonly pending = new Map<number, { cache: string; resolve: (changed: boolean) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private readonly touched = new Map<string, Set<string>>();
  private touchTimer: NodeJS.Timeout | undefined;
  private gone = false;

  constructor(send: CacheRequestSender) {
    this.send = send;
  }

  /** Sends a write; resolves with the master's `changed` once this worker's replica has it. */
  write(cache: string, build: (id: number) => CacheWrite): Promise<boolean> {
    if (this.gone) return Promise.reject(masterGone(cache));
    const id = this.nextId++;
    return new Promise<boolean>((resolve, reject) => {
      this.pending.set(id, { cache, resolve, reject });
      this.send(build(id), () => this.fail(id, masterGone(cache)));
    });
  }

  /** Notes a read of `key`, for the next batch. */
  touch(cache: string, key: string): void {
    let keys = this.touched.get(cache);
    if (keys === undefined) this.touched.set(cache, (keys = new Set()));
    // Re-adding moves the key last: the batch lists keys in the order they were last read.
    keys.delete(key);
    keys.add(key);
    if (this.touchTimer === undefined && !this.gone) {
      this.touchTimer = setTimeout(() => this.flushTouches(), TOUCH_BATCH_MS);
      // Reads alone must not keep a worker that is otherwise done alive.
      this.touchTimer.unref();
    }
  }

  /** The master's answer to one of our writes. */
  answer(notice: Exclude<CacheNotice, { type: 'cache-changes' }>): void {
    const waiting = this.pending.get(notice.id);
    if (waiting === undefined) return;
    this.pending.delete(notice.id);
    if (notice.type === 'cache-done') waiting.resolve(notice.changed);
    else waiting.reject(new SpryError(notice.code as ErrorCode, notice.message));
  }

  /** The master is gone: no write can complete now or later. */
  lost(): void {
    this.gone = true;
    clearTimeout(this.touchTimer);
    for (const id of [...this.pending.keys()]) this.fail(id, masterGone(this.pending.get(id)!.cache));
  }

  private fail(id: number, error: Error): void {
    const waiting = this.pending.get(id);
    if (waiting === undefined) return;
    this.pending.delete(id);
    waiting.reject(error);
  }

  private flushTouches(): void {
    this.touchTimer = undefined;
    if (this.gone || this.touched.size === 0) return;
    const touched = [...this.touched].map(([cache, keys]) => ({ cache, keys: [...keys] }));
    this.touched.clear();
    // A lost batch only costs LRU precision.
    this.send({ type: 'cache-touch', touched }, () => {});
  }
}

function masterGone(cache: string): SpryError {
  return cacheError({ name: cache }, 'the master process is gone, so this worker can no longer write (it is shutting down)');
}

export class WorkerCache implements SpryCache {
  private readonly replica: CacheReplica;
  private readonly link: MasterLink;

  constructor(replica: CacheReplica, link: MasterLink) {
    this.replica = replica;
    this.link = link;
  }

  get name(): string {
    return this.replica.limits.name;
  }

  get size(): number {
    return this.replica.size;
  }

  get(key: string): Buffer | undefined {
    return this.getEntry(key)?.value;
  }

  getEntry(key: string): CachedResponse | undefined {
    const entry = this.replica.get(key);
    countCacheLookup(this.name, entry !== undefined);
    if (entry === undefined) return undefined;
    this.link.touch(this.name, key);
    return { value: entry.value, contentType: entry.contentType };
  }

  has(key: string): boolean {
    return this.replica.get(key) !== undefined;
  }

  async set(key: string, value: string | Uint8Array, options?: CacheSetOptions): Promise<void> {
    // Room is the master's call (it drops expired entries first, and other workers write too).
    const write = prepareWrite(this.replica.limits, key, value, options);
    const { value: bytes, contentType, expiresAt } = write;
    await this.link.write(this.name, (id) => ({ type: 'cache-set', id, cache: this.name, key, value: bytes, contentType, expiresAt }));
  }

  async delete(key: string): Promise<boolean> {
    checkKey(this.replica.limits, key);
    return this.link.write(this.name, (id) => ({ type: 'cache-delete', id, cache: this.name, key }));
  }

  async clear(): Promise<void> {
    await this.link.write(this.name, (id) => ({ type: 'cache-clear', id, cache: this.name }));
  }

  keys(): string[] {
    return this.replica.keys();
  }

  stats(): CacheStats {
    return this.replica.stats();
  }
}
