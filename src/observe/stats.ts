// One process's counters, fed by the Observer at each request's start and end, and the
// snapshot the stats server and /metrics read. Snapshots are plain data (they cross the
// master's IPC by structured clone) and add up across workers (mergeSnapshots).

import { wireProtocol, type AccessRecord } from './access-record.ts';

/** The request-duration histogram's upper bounds, in seconds (Prometheus's defaults, plus 1 ms). */
export const DURATION_BOUNDS: readonly number[] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface ProtocolStats {
  /** Connections open now, and accepted in all (connections, not streams). */
  connections: number;
  connectionsTotal: number;
  /** Protocol errors by stable code: SPDY sessions' protocolError, h2 session errors and refused streams, 400s for bad request heads. */
  errors: Record<string, number>;
  requests: number;
  /** Requests reached the app and not yet ended: open streams (SPDY, h2) or requests in flight. */
  inFlight: number;
  /** Connections (HTTP/1.1) and streams (h2 extended CONNECT) switched to another protocol: open now, and in all. */
  upgrades: number;
  upgradesTotal: number;
  /** By status class: `1xx` … `5xx`, and `0xx` for exchanges cut before any response. */
  statusClasses: Record<string, number>;
  bytesIn: number;
  bytesOut: number;
  /** Cumulative counts per DURATION_BOUNDS entry, then +Inf. */
  durationBuckets: number[];
  durationSum: number;
}

export interface BackendStats {
  readonly label: string;
  readonly state: 'alive' | 'dead';
  readonly failures: number;
  readonly outstanding: number;
}

export interface WorkerStats {
  readonly id: number;
  readonly pid: number;
  readonly requests: number;
  readonly exceptions: number;
  readonly status: 'idle' | 'busy';
  readonly rss: number;
  readonly vsz: number;
  readonly respawn_count: number;
  /** Mean response time, microseconds (uWSGI's avg_rt). */
  readonly avg_rt: number;
  /** Response bytes sent. */
  readonly tx: number;
  /** Microseconds spent serving requests (uWSGI's running_time). */
  readonly running_time: number;
  readonly last_spawn: number;
}

export interface CacheLookups {
  hits: number;
  misses: number;
}

export interface StatsSnapshot {
  readonly workers: WorkerStats[];
  readonly protocols: Record<string, ProtocolStats>;
  /** Reads of each cache (apps' get and the push planner's), by cache name. */
  readonly caches: Record<string, CacheLookups>;
  readonly pushes: { sent: number; refused: number };
  readonly droppedLogLines: number;
  readonly backends: BackendStats[];
}

export class Stats {
  requests = 0;
  exceptions = 0;
  pushesSent = 0;
  pushesRefused = 0;
  tx = 0;
  runningTimeUs = 0;
  private readonly protocols = new Map<string, ProtocolStats>();
  private readonly caches = new Map<string, CacheLookups>();
  private readonly spawnedAt = Math.floor(Date.now() / 1000);
  private readonly workerId: number;
  /** Other sources of numbers, asked at snapshot time. */
  droppedLines: () => number = () => 0;
  backends: () => BackendStats[] = () => [];

  constructor(workerId: number) {
    this.workerId = workerId;
  }

  started(record: AccessRecord): void {
    this.protocol(wireProtocol(record.head)).inFlight++;
  }

  connectionOpened(protocol: string): void {
    const stats = this.protocol(protocol);
    stats.connections++;
    stats.connectionsTotal++;
  }

  connectionClosed(protocol: string): void {
    this.protocol(protocol).connections--;
  }

  protocolError(protocol: string, code: string): void {
    const errors = this.protocol(protocol).errors;
    errors[code] = (errors[code] ?? 0) + 1;
  }

  /** A 101 went out (h2: the tunnel's 200): the connection is upgraded until ended() says otherwise. */
  upgraded(record: AccessRecord): void {
    const stats = this.protocol(wireProtocol(record.head));
    stats.upgrades++;
    stats.upgradesTotal++;
  }

  /**
   * An upgrade's record at its connection's close, or a request the front end refused itself
   * (a 400 for a head node:http or spry would not take): counted by protocol, status class and
   * bytes as requests are; not in the duration histogram nor the worker's requests and avg_rt,
   * which a WebSocket's hours would swamp.
   */
  ended(record: AccessRecord): void {
    const stats = this.protocol(wireProtocol(record.head));
    if (record.upgrade !== undefined) stats.upgrades--;
    countAnswer(stats, record);
  }

  cacheLookup(cache: string, hit: boolean): void {
    let lookups = this.caches.get(cache);
    if (lookups === undefined) this.caches.set(cache, (lookups = { hits: 0, misses: 0 }));
    if (hit) lookups.hits++;
    else lookups.misses++;
  }

  finished(record: AccessRecord): void {
    const stats = this.protocol(wireProtocol(record.head));
    stats.inFlight--;
    countAnswer(stats, record);
    const seconds = record.durationMs / 1000;
    stats.durationSum += seconds;
    const buckets = stats.durationBuckets;
    for (let i = 0; i < DURATION_BOUNDS.length; i++) if (seconds <= DURATION_BOUNDS[i]) buckets[i]++;
    buckets[DURATION_BOUNDS.length]++;
    this.requests++;
    this.tx += record.bodyBytes;
    this.runningTimeUs += record.durationMs * 1000;
  }

  snapshot(): StatsSnapshot {
    const memory = process.memoryUsage();
    let inFlight = 0;
    for (const stats of this.protocols.values()) inFlight += stats.inFlight;
    const worker: WorkerStats = {
      id: this.workerId,
      pid: process.pid,
      requests: this.requests,
      exceptions: this.exceptions,
      status: inFlight > 0 ? 'busy' : 'idle',
      rss: memory.rss,
      vsz: memory.rss + memory.external,
      respawn_count: 0,
      avg_rt: this.requests === 0 ? 0 : Math.round(this.runningTimeUs / this.requests),
      tx: this.tx,
      running_time: Math.round(this.runningTimeUs),
      last_spawn: this.spawnedAt,
    };
    return {
      workers: [worker],
      protocols: structuredClone(Object.fromEntries(this.protocols)),
      caches: structuredClone(Object.fromEntries(this.caches)),
      pushes: { sent: this.pushesSent, refused: this.pushesRefused },
      droppedLogLines: this.droppedLines(),
      backends: this.backends(),
    };
  }

  private protocol(name: string): ProtocolStats {
    let stats = this.protocols.get(name);
    if (stats === undefined) {
      stats = emptyProtocolStats();
      this.protocols.set(name, stats);
    }
    return stats;
  }
}

/** Status class names by status / 100, so a request's costs no string. */
const STATUS_CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

/** What every answered request adds to its protocol's counts. */
function countAnswer(stats: ProtocolStats, record: AccessRecord): void {
  stats.requests++;
  const statusClass = STATUS_CLASSES[Math.floor(record.status / 100)] ?? `${Math.floor(record.status / 100)}xx`;
  stats.statusClasses[statusClass] = (stats.statusClasses[statusClass] ?? 0) + 1;
  if (record.requestBytes > 0) stats.bytesIn += record.requestBytes;
  stats.bytesOut += record.bodyBytes;
}

function emptyProtocolStats(): ProtocolStats {
  return { connections: 0, connectionsTotal: 0, errors: {}, requests: 0, inFlight: 0, upgrades: 0, upgradesTotal: 0, statusClasses: {}, bytesIn: 0, bytesOut: 0, durationBuckets: new Array<number>(DURATION_BOUNDS.length + 1).fill(0), durationSum: 0 };
}

function addCounts(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [key, count] of Object.entries(from)) into[key] = (into[key] ?? 0) + count;
}

/** Every worker's snapshot as one: workers listed, counters summed, backends by label. */
export function mergeSnapshots(snapshots: readonly StatsSnapshot[]): StatsSnapshot {
  const protocols: Record<string, ProtocolStats> = {};
  const caches: Record<string, CacheLookups> = {};
  const backends = new Map<string, BackendStats>();
  let sent = 0;
  let refused = 0;
  let dropped = 0;
  for (const snapshot of snapshots) {
    for (const [name, stats] of Object.entries(snapshot.protocols)) {
      const into = (protocols[name] ??= emptyProtocolStats());
      into.connections += stats.connections;
      into.connectionsTotal += stats.connectionsTotal;
      addCounts(into.errors, stats.errors);
      into.requests += stats.requests;
      into.inFlight += stats.inFlight;
      into.upgrades += stats.upgrades;
      into.upgradesTotal += stats.upgradesTotal;
      into.bytesIn += stats.bytesIn;
      into.bytesOut += stats.bytesOut;
      into.durationSum += stats.durationSum;
      stats.durationBuckets.forEach((count, i) => (into.durationBuckets[i] += count));
      addCounts(into.statusClasses, stats.statusClasses);
    }
    for (const [name, lookups] of Object.entries(snapshot.caches)) {
      const into = (caches[name] ??= { hits: 0, misses: 0 });
      into.hits += lookups.hits;
      into.misses += lookups.misses;
    }
    for (const backend of snapshot.backends) {
      const known = backends.get(backend.label);
      backends.set(backend.label, known === undefined ? backend : { ...known, failures: known.failures + backend.failures, outstanding: known.outstanding + backend.outstanding, state: known.state === 'alive' ? known.state : backend.state });
    }
    sent += snapshot.pushes.sent;
    refused += snapshot.pushes.refused;
    dropped += snapshot.droppedLogLines;
  }
  return { workers: snapshots.flatMap((s) => s.workers), protocols, caches, pushes: { sent, refused }, droppedLogLines: dropped, backends: [...backends.values()] };
}

/** uWSGI's stats document: its top-level fields, then spry's. */
export function statsDocument(snapshot: StatsSnapshot, version: string, listenQueue = 0): object {
  return {
    version,
    listen_queue: listenQueue,
    load: snapshot.workers.reduce((sum, w) => sum + (w.status === 'busy' ? 1 : 0), 0),
    pid: process.pid,
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    cwd: process.cwd(),
    workers: snapshot.workers,
    protocols: snapshot.protocols,
    caches: snapshot.caches,
    pushes: snapshot.pushes,
    backends: snapshot.backends,
    dropped_log_lines: snapshot.droppedLogLines,
  };
}
