// The cache as apps and push see it: one interface, two implementations (a store of its own in a
// single process, a replica of the master's store in a worker). Reads are local and synchronous;
// writes return promises because in a worker they go through the master.

export interface CacheStats {
  /** Entries held now, and at most (`items=`). */
  readonly items: number;
  readonly maxItems: number;
  /** Blocks in use, and in the cache (`blocks=`). */
  readonly blocksUsed: number;
  readonly blocks: number;
  readonly blocksize: number;
  /** Value bytes held (keys not counted). */
  readonly bytes: number;
}

/** A value as push serves it. */
export interface CachedResponse {
  /** Shared with the cache: read it, do not modify it. */
  readonly value: Buffer;
  readonly contentType: string;
}

export interface CacheSetOptions {
  /** Served with the value; guessed from the key's extension when absent. */
  readonly contentType?: string;
  /** Seconds until the entry expires; 0 or absent: never. */
  readonly expires?: number;
}

export interface SpryCache {
  readonly name: string;
  /** The value (shared with the cache: do not modify it), counting as a use for LRU. */
  get(key: string): Buffer | undefined;
  /** The value and its Content-Type, counting as a use for LRU. */
  getEntry(key: string): CachedResponse | undefined;
  /** Whether the key is held (not a use for LRU). */
  has(key: string): boolean;
  /**
   * Stores a copy of `value` (a string is stored as UTF-8), evicting least recently used entries
   * if the cache is full (or failing, with purge_lru=0). Resolves once this process reads it back.
   */
  set(key: string, value: string | Uint8Array, options?: CacheSetOptions): Promise<void>;
  /** Resolves with whether the key was held. */
  delete(key: string): Promise<boolean>;
  clear(): Promise<void>;
  /** Keys held, least recently used first. */
  keys(): string[];
  readonly size: number;
  stats(): CacheStats;
}
