// What a worker and its master say about caches over the IPC channel (advanced serialization,
// so values cross as bytes). The master's stores are the truth; a worker holds a replica that
// the master keeps current by broadcasting every change, evictions included, to every worker.

/** An entry as a replica receives it: in a snapshot, or as a change. */
export interface CachePut {
  readonly op: 'put';
  readonly key: string;
  readonly value: Uint8Array;
  readonly contentType: string;
  readonly expiresAt: number | undefined;
}

export type CacheChange = CachePut | { readonly op: 'delete'; readonly key: string } | { readonly op: 'clear' };

/** One cache's entries, least recently used first: what a new worker starts from. */
export interface CacheSnapshot {
  readonly name: string;
  readonly entries: readonly CachePut[];
}

/** Worker → master. Writes carry an id the master answers with 'cache-done' or 'cache-failed'. */
export type CacheRequest =
  | { readonly type: 'cache-set'; readonly id: number; readonly cache: string; readonly key: string; readonly value: Uint8Array; readonly contentType: string; readonly expiresAt: number | undefined }
  | { readonly type: 'cache-delete'; readonly id: number; readonly cache: string; readonly key: string }
  | { readonly type: 'cache-clear'; readonly id: number; readonly cache: string }
  /** Keys read since the last batch, so the master's LRU order follows reads in every worker. */
  | { readonly type: 'cache-touch'; readonly touched: readonly { readonly cache: string; readonly keys: readonly string[] }[] };

/**
 * Master → worker. 'cache-changes' goes to every worker; the answer to a write goes to the
 * worker that asked, after the broadcast, so the IPC channel's order makes its own replica
 * current by the time its promise resolves.
 */
export type CacheNotice =
  | { readonly type: 'cache-changes'; readonly cache: string; readonly changes: readonly CacheChange[] }
  /** `changed`: false for a delete of a key the master did not hold. */
  | { readonly type: 'cache-done'; readonly id: number; readonly changed: boolean }
  | { readonly type: 'cache-failed'; readonly id: number; readonly code: string; readonly message: string };

const REQUEST_TYPES: ReadonlySet<string> = new Set(['cache-set', 'cache-delete', 'cache-clear', 'cache-touch']);
const NOTICE_TYPES: ReadonlySet<string> = new Set(['cache-changes', 'cache-done', 'cache-failed']);

export function isCacheRequest(message: { readonly type: string }): message is CacheRequest {
  return REQUEST_TYPES.has(message.type);
}

export function isCacheNotice(message: { readonly type: string }): message is CacheNotice {
  return NOTICE_TYPES.has(message.type);
}
