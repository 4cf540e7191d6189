// The messages master and workers exchange over the IPC channel.

import type { CacheNotice, CacheRequest, CacheSnapshot } from '../cache/cache-messages.ts';
import type { SpryConfig } from '../config/config.ts';
import type { StatsSnapshot } from '../observe/stats.ts';
import type { CertificateConfig } from '../tls/reread.ts';

export type MasterMessage =
  /**
   * The configuration to serve (sent once, first), without --load-file-in-cache contents: the
   * caches' entries as the master holds them now are in `caches`.
   */
  | { readonly type: 'start'; readonly config: SpryConfig; readonly caches: readonly CacheSnapshot[]; readonly workerId: number }
  /** The stats server wants this worker's numbers: answered with a 'stats' of the same id. */
  | { readonly type: 'stats-request'; readonly id: number }
  /**
   * A connection accepted on listener `listener` (index into https2 then http); the socket rides
   * along. The worker says it took it on its own channel, not here (taken-connections.ts).
   */
  | { readonly type: 'connection'; readonly listener: number; readonly id: number }
  /** Finish in-flight work (GOAWAY, no keep-alive), then exit; connections left after graceMs are cut. */
  | { readonly type: 'drain'; readonly graceMs: number }
  /** --touch-certs: new handshakes get these certificates (read by the master); nothing else changes. */
  | { readonly type: 'certificates'; readonly certificates: CertificateConfig }
  /** Cache changes for every worker's replica, and answers to one worker's writes. */
  | CacheNotice;

export type WorkerMessage =
  /** The app is loaded and every listener can take connections. */
  | { readonly type: 'ready' }
  /** The worker will not serve connection `id` (it is draining): the master gives it to another. */
  | { readonly type: 'declined'; readonly id: number }
  /** The worker cannot serve (its app failed to load): the message is for the user. */
  | { readonly type: 'fatal'; readonly message: string; readonly code: string }
  /** This worker's numbers, for the master's stats server and /metrics. */
  | { readonly type: 'stats'; readonly id: number; readonly snapshot: StatsSnapshot }
  /** --harakiri: the worker's event loop still runs (sent from a timer). */
  | { readonly type: 'heartbeat' }
  /** Cache writes and read batches for the master's stores. */
  | CacheRequest;

export function isMasterMessage(value: unknown): value is MasterMessage {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}
