// The master process: binds every listening socket (shared sockets first, as root if need be),
// drops privileges, then runs N workers that share the listeners. The master accepts each
// connection and hands the socket to a worker round-robin over IPC, as node:cluster does by
// default on Linux; holding the listening sockets itself is what lets it respawn and reload
// workers on privileged ports long after it stopped being root.
//
// Signals: SIGHUP reloads gracefully (a new generation takes over, the old one drains and
// exits); SIGTERM/SIGINT stop gracefully; --touch-reload files reload on a new mtime.
//
// Certificates: workers get PEM text in their config, never paths to read, so the master reads
// the files again (once, and with one log line per file that no longer loads) before each
// reload's new generation, and for --touch-certs sends the fresh text to the running workers.

import { fork, type ChildProcess } from 'node:child_process';
import { chownSync, truncateSync, unlinkSync, unwatchFile, watchFile, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { extname, resolve as resolvePath } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { isCacheRequest, type CacheNotice, type CacheRequest } from '../cache/cache-messages.ts';
import { MasterCaches, SWEEP_INTERVAL_MS, withoutPreload } from '../cache/master-caches.ts';
import type { ListenAddress, SpryConfig } from '../config/config.ts';
import { ConfigError, SpryError } from '../errors.ts';
import { listenerPlans, protocolsOf, withBoundHttpsPort } from '../listen/handlers.ts';
import { watchTouchCerts } from '../listen/served-certificates.ts';
import { rereadCertificates, type CertificateConfig } from '../tls/reread.ts';
import { bind, forgetSocketActivation } from '../listen/bind.ts';
import { logLine, reopenLogFile } from '../log.ts';
import { mergeSnapshots, type StatsSnapshot } from '../observe/stats.ts';
import { startStatsServers } from '../observe/stats-server.ts';
import { startObservation } from '../observe/observation.ts';
import type { ObserveConfig } from '../config/config.ts';
import { HarakiriWatchdog } from './harakiri-watchdog.ts';
import { readTaken, TAKEN_FD } from './taken-connections.ts';
import type { MasterMessage, WorkerMessage } from './messages.ts';
import { CRASH_LOOP_LIMIT, CRASH_LOOP_WINDOW_MS, RespawnBackoff } from './respawn-backoff.ts';
import { startManagedPython, type ManagedPython } from '../wsgi/managed-python.ts';
import { checkWorkerCanRun, dropPrivileges, refuseRootIfAsked, resolveAccounts, workerCannotRun } from './privileges.ts';

// The command beside this module: bin/spry.ts in the checkout, dist/bin/spry.js where npm installed
// spry (the compiled tree keeps the sources' layout and turns .ts into .js).
const BIN = fileURLToPath(new URL(`../../bin/spry${extname(import.meta.filename)}`, import.meta.url));
/** How long the stats server waits for a worker's numbers. */
const STATS_ANSWER_MS = 1000;
/** Tests count a crash loop with these. */
export { CRASH_LOOP_LIMIT, CRASH_LOOP_WINDOW_MS };
/** Connections accepted while no worker is ready wait here, up to this many. */
const MAX_PENDING_CONNECTIONS = 1024;
/**
 * After a worker's exit, how long its taken-connections channel may stay open (a child it
 * spawned inherited the descriptor) before its untaken connections are given to others anyway:
 * by then every record it wrote before it died has been read.
 */
const TAKEN_CHANNEL_END_MS = 1000;

interface WorkerHandle {
  readonly child: ChildProcess;
  readonly generation: number;
  /** 1…N within its generation, as uWSGI's worker id (a respawn keeps the id). */
  readonly id: number;
  ready: boolean;
  draining: boolean;
  /**
   * A send to it failed: it is gone, though its exit has not been seen. It gets no more
   * connections (re-dispatching to it would fail again at once, and a lone worker's retries
   * would starve the loop that is to notice its exit).
   */
  unreachable: boolean;
  /** Connections sent to this worker that it has not said it took (the master keeps its copy). */
  readonly handedOver: Map<number, { listener: number; socket: Socket }>;
}

export interface RunningMaster {
  readonly listeners: readonly { readonly scheme: Scheme; readonly address: AddressInfo | string; readonly protocols: readonly string[] }[];
  /** Starts a new generation of workers and retires the current one once it is ready. */
  reload(): void;
  /** Stops accepting, drains every worker, and resolves when they are gone. */
  close(): Promise<void>;
  /** Resolves with an exit status if the master gives up by itself (a crash loop). */
  readonly failed: Promise<number>;
  readonly workerPids: () => number[];
}

export async function startMaster(config: SpryConfig): Promise<RunningMaster> {
  const settings = config.processes;
  const accounts = resolveAccounts(settings.uid, settings.gid);
  // Before binding: a preload that does not fit is a configuration error with nothing started.
  const caches = new MasterCaches(config.caches);
  const servers = await bindListeners(config);
  try {
    if (settings.pidfile !== undefined) writePidfile(settings.pidfile, accounts.user);
    dropPrivileges(accounts);
    refuseRootIfAsked(settings.refuseRoot);
    if (accounts.user !== undefined || accounts.group !== undefined) checkWorkerCanRun(workerAccount(accounts), workerNeeds(config));
  } catch (error) {
    for (const { server } of servers) server.close();
    if (settings.pidfile !== undefined) removePidfile(settings.pidfile);
    throw error;
  }
  // The master's own lines go to --logto2 and reopen with --touch-logreopen.
  const observation = startObservation(config.observe === undefined ? undefined : { ...config.observe, accessLog: false, stats: undefined, metrics: undefined } as ObserveConfig, 0);
  // After the drop: a Python app's uWSGI workers run as --uid/--gid, and are up before ours.
  let python: ManagedPython | undefined;
  try {
    python = await startManagedPython(config);
  } catch (error) {
    for (const { server } of servers) server.close();
    if (settings.pidfile !== undefined) removePidfile(settings.pidfile);
    throw error;
  }
  // --https2 listeners are bound first: the workers' --http-to-https gets the first one's port.
  const master = new Master(withBoundHttpsPort(python?.config ?? config, servers[0]?.server.address()), servers.map(({ server }) => server), caches);
  const reload = (): void => {
    void python?.reload();
    master.reload();
  };
  try {
    await master.startGeneration();
  } catch (error) {
    await master.close();
    await python?.stop();
    if (settings.pidfile !== undefined) removePidfile(settings.pidfile);
    throw error;
  }
  let statsServers;
  try {
    statsServers = config.observe === undefined ? undefined : await startStatsServers(config.observe, () => master.statsSnapshot());
  } catch (error) {
    await master.close();
    await python?.stop();
    if (settings.pidfile !== undefined) removePidfile(settings.pidfile);
    throw error;
  }
  for (const watched of settings.touchReload) {
    watchFile(watched, { interval: 1000 }, (now, before) => {
      if (now.mtimeMs !== before.mtimeMs) {
        logLine(`${watched} was touched: reloading`);
        reload();
      }
    });
  }
  const unwatchCerts = watchTouchCerts(config.sni?.touchCerts ?? [], () => master.reloadCertificates());
  return {
    listeners: servers.map(({ scheme, server, protocols }) => ({ scheme, protocols, address: server.address() as AddressInfo | string })),
    reload,
    failed: master.failed,
    workerPids: () => master.pids(),
    async close() {
      for (const watched of settings.touchReload) unwatchFile(watched);
      unwatchCerts();
      await statsServers?.close();
      await master.close();
      await python?.stop();
      observation.close();
      if (settings.pidfile !== undefined) removePidfile(settings.pidfile);
    },
  };
}

/** Binds shared sockets first, then each listener (on its shared socket or its own address). */
type Scheme = 'https' | 'http' | 'uwsgi';

async function bindListeners(config: SpryConfig): Promise<{ scheme: Scheme; server: Server; protocols: readonly string[] }[]> {
  const bound: Server[] = [];
  const newServer = () => {
    // The master never reads a byte: sockets go to workers untouched.
    const server = createServer({ pauseOnConnect: true });
    bound.push(server);
    return server;
  };
  try {
    const shared: Server[] = [];
    for (const socket of config.processes.sharedSockets) {
      const server = newServer();
      await bind(server, socket.addr, '--shared-socket', socket.source, config.unixSockets);
      shared.push(server);
    }
    const use = async (addr: ListenAddress, option: string, source: string): Promise<Server> => {
      if (addr.kind === 'shared') return shared[addr.index];
      const server = newServer();
      await bind(server, addr, option, source, config.unixSockets);
      return server;
    };
    const listeners: { scheme: Scheme; server: Server; protocols: readonly string[] }[] = [];
    for (const { option, source, addr, spec } of listenerPlans(config)) {
      listeners.push({ scheme: spec.kind, server: await use(addr, option, source), protocols: protocolsOf(spec) });
    }
    forgetSocketActivation(); // the workers get their connections from us
    return listeners;
  } catch (error) {
    for (const server of bound) server.close();
    throw error;
  }
}

class Master {
  private readonly config: SpryConfig;
  /** What workers are sent: the caches' files are in the snapshot instead; certificates as last read. */
  private workerConfig: SpryConfig;
  private readonly caches: MasterCaches;
  private readonly sweeper: NodeJS.Timeout | undefined;
  private readonly servers: Server[];
  private readonly workers = new Set<WorkerHandle>();
  private generation = 0;
  private nextWorker = 0;
  private connectionIds = 0;
  private readonly pending: { listener: number; socket: Socket }[] = [];
  private readonly crashes = new RespawnBackoff();
  /** Spawns per worker id, for the stats' respawn_count. */
  private readonly spawns = new Map<number, number>();
  private statsRequests = 0;
  private readonly statsAnswers = new Map<number, (snapshot: StatsSnapshot, worker: WorkerHandle) => void>();
  private stopping = false;
  private giveUp: ((status: number) => void) | null = null;
  /** --harakiri: kills workers whose event loop stopped (no heartbeat). */
  private readonly watchdog: HarakiriWatchdog | undefined;
  readonly failed = new Promise<number>((resolve) => (this.giveUp = resolve));

  constructor(config: SpryConfig, servers: Server[], caches: MasterCaches) {
    this.config = config;
    this.workerConfig = withoutPreload(config);
    this.caches = caches;
    if (caches.size > 0) {
      this.sweeper = setInterval(() => {
        for (const notice of caches.sweep()) this.broadcast(notice);
      }, SWEEP_INTERVAL_MS);
      this.sweeper.unref();
    }
    if (config.edge?.harakiriMs !== undefined) this.watchdog = new HarakiriWatchdog(config.edge.harakiriMs);
    this.servers = servers;
    servers.forEach((server, listener) => {
      server.on('connection', (socket: Socket) => this.dispatch(listener, socket));
    });
  }

  /** Every serving worker's numbers (one that does not answer within a second is left out). */
  async statsSnapshot(): Promise<StatsSnapshot> {
    const id = ++this.statsRequests;
    const serving = [...this.workers].filter((worker) => worker.ready && !worker.draining);
    const answers: StatsSnapshot[] = [];
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, STATS_ANSWER_MS);
      let waiting = serving.length;
      if (waiting === 0) resolve();
      this.statsAnswers.set(id, (snapshot, worker) => {
        const respawns = (this.spawns.get(worker.id) ?? 1) - 1;
        answers.push({ ...snapshot, workers: snapshot.workers.map((w) => ({ ...w, respawn_count: respawns })) });
        if (--waiting === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
      for (const worker of serving) this.send(worker, { type: 'stats-request', id });
    });
    this.statsAnswers.delete(id);
    answers.sort((a, b) => (a.workers[0]?.id ?? 0) - (b.workers[0]?.id ?? 0));
    return mergeSnapshots(answers);
  }

  pids(): number[] {
    return [...this.workers].filter((worker) => !worker.draining).map((worker) => worker.child.pid!);
  }

  /** Spawns a full generation and resolves when every worker is ready (rejects if one cannot start). */
  async startGeneration(): Promise<void> {
    const generation = ++this.generation;
    const starting = Array.from({ length: this.config.processes.workers }, (_, i) => this.spawn(generation, i + 1));
    try {
      await Promise.all(starting);
    } catch (error) {
      for (const worker of this.workers) if (worker.generation === generation) worker.child.kill('SIGKILL');
      this.generation--;
      throw error;
    }
    this.flushPending();
  }

  reload(): void {
    if (this.stopping) return;
    const previous = this.generation;
    reopenLogFile(); // the new workers open the access log anew
    logLine(`reloading: starting ${this.config.processes.workers} new worker(s)`);
    this.rereadCertificates().then(() => this.startGeneration()).then(
      () => {
        const old = [...this.workers].filter((worker) => worker.generation <= previous);
        logLine(`reload: new workers ready; ${old.length} old worker(s) finishing in-flight requests`);
        for (const worker of old) this.retire(worker);
      },
      (error: unknown) => logLine(`reload failed, the running workers stay: ${error instanceof Error ? error.message : String(error)}`),
    );
  }

  /** --touch-certs: the running workers get the files' new text; nothing restarts. */
  reloadCertificates(): void {
    if (this.stopping) return;
    void this.rereadCertificates().then((certificates) => {
      for (const worker of this.workers) this.send(worker, { type: 'certificates', certificates });
      // Connections are handed over on the same channels, after this: each worker has applied it first.
      logLine(`certificate reload: sent to ${this.workers.size} worker(s)`);
    });
  }

  /** Reads every certificate file again into the config new workers get (what fails to load stays as it was). */
  private async rereadCertificates(): Promise<CertificateConfig> {
    const { certificates, problems } = await rereadCertificates(this.workerConfig);
    for (const problem of problems) logLine(`certificate reload: ${problem}`);
    this.workerConfig = { ...this.workerConfig, ...certificates };
    return certificates;
  }

  async close(): Promise<void> {
    this.stopping = true;
    clearInterval(this.sweeper);
    this.watchdog?.stop();
    for (const server of this.servers) server.close();
    for (const { socket } of this.pending.splice(0)) socket.destroy();
    const exits = [...this.workers].map((worker) => this.retire(worker));
    await Promise.all(exits);
  }

  /** Asks a worker to drain and exit; kills it if it is still there after reload-mercy. */
  private retire(worker: WorkerHandle): Promise<void> {
    worker.draining = true;
    this.watchdog?.forget(worker.child);
    if (worker.child.exitCode !== null || worker.child.signalCode !== null) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => worker.child.kill('SIGKILL'), this.config.processes.reloadMercyMs);
      timer.unref();
      worker.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.send(worker, { type: 'drain', graceMs: this.config.processes.workerReloadMercyMs });
    });
  }

  private spawn(generation: number, id: number): Promise<void> {
    const child = fork(BIN, [], {
      env: { ...process.env, SPRY_WORKER: '1' },
      // fd 4: the connections it takes (taken-connections.ts).
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', 'pipe'],
      // Structured clone: cache values cross as bytes, not as JSON arrays of numbers.
      serialization: 'advanced',
    });
    const worker: WorkerHandle = { child, generation, id, ready: false, draining: false, unreachable: false, handedOver: new Map() };
    // A spawn that fails (EACCES on Node or the directory) emits 'error', then 'exit' or nothing.
    const spawnFailed = new Promise<never>((_resolve, reject) => {
      child.once('error', (error) => reject(workerCannotRun(workerAccount(resolveAccounts(this.config.processes.uid, this.config.processes.gid)), (error as NodeJS.ErrnoException).path ?? process.execPath, error)));
    });
    spawnFailed.catch(() => {});
    this.spawns.set(id, (this.spawns.get(id) ?? 0) + 1);
    this.workers.add(worker);
    let exited = false;
    let channelEnded = false;
    readTaken(
      child.stdio[TAKEN_FD] as Readable,
      (taken) => {
        // The worker holds the connection now; closing our descriptor leaves it open.
        worker.handedOver.get(taken)?.socket.destroy();
        worker.handedOver.delete(taken);
      },
      () => {
        channelEnded = true;
        if (exited) this.reclaim(worker);
      },
    );
    return new Promise<void>((resolve, reject) => {
      child.on('message', (message: WorkerMessage) => {
        if (message.type === 'heartbeat') {
          if (!worker.draining) this.watchdog?.beat(child);
        } else if (message.type === 'ready') {
          worker.ready = true;
          this.watchdog?.beat(child);
          resolve();
          this.flushPending();
        } else if (message.type === 'declined') {
          this.takeBack(worker, message.id);
        } else if (message.type === 'stats') {
          this.statsAnswers.get(message.id)?.(message.snapshot, worker);
        } else if (isCacheRequest(message)) {
          this.onCacheRequest(worker, message);
        } else if (message.type === 'fatal') {
          worker.draining = true; // an exit that follows is not a crash to respawn
          reject(new SpryError(message.code as SpryError['code'], message.message));
        }
      });
      child.once('exit', (code, signal) => {
        this.workers.delete(worker);
        this.watchdog?.forget(child);
        exited = true;
        if (channelEnded) this.reclaim(worker);
        else setTimeout(() => this.reclaim(worker), TAKEN_CHANNEL_END_MS).unref();
        if (!worker.ready) reject(new SpryError('SPRY_ERR_APP_LOAD', `worker ${child.pid} exited while starting (${signal ?? `status ${code}`})`));
        if (!worker.draining && !this.stopping) this.onCrash(worker, code, signal);
      });
      // The snapshot and every broadcast after it travel the same ordered channel: the replica
      // misses nothing (this worker is already in this.workers for the broadcasts).
      this.send(worker, { type: 'start', config: this.workerConfig, caches: this.caches.snapshot(), workerId: id });
      spawnFailed.catch(reject);
    });
  }

  private onCrash(worker: WorkerHandle, code: number | null, signal: NodeJS.Signals | null): void {
    const how = signal ?? `status ${code}`;
    const delay = this.crashes.died();
    if (delay === 'crash-loop') {
      logLine(`worker ${worker.child.pid} died (${how}); ${this.crashes.recent} deaths in ${CRASH_LOOP_WINDOW_MS / 1000} s is a crash loop: not respawning`);
      if (this.pids().length === 0) this.giveUp?.(1);
      return;
    }
    logLine(`worker ${worker.child.pid} died (${how}); respawning in ${delay} ms`);
    const timer = setTimeout(() => {
      if (this.stopping || worker.generation !== this.generation) return;
      this.spawn(worker.generation, worker.id).catch((error: unknown) => {
        logLine(`respawn failed: ${error instanceof Error ? error.message : String(error)}`);
      });
    }, delay);
    timer.unref();
  }

  private dispatch(listener: number, socket: Socket): void {
    const worker = this.pickWorker();
    if (worker === undefined) {
      if (this.pending.length >= MAX_PENDING_CONNECTIONS || this.stopping) socket.destroy();
      else this.pending.push({ listener, socket });
      return;
    }
    this.handOver(worker, listener, socket);
  }

  private handOver(worker: WorkerHandle, listener: number, socket: Socket): void {
    const id = ++this.connectionIds;
    worker.handedOver.set(id, { listener, socket });
    const message: MasterMessage = { type: 'connection', listener, id };
    // keepOpen: our copy stays until the worker says it took it, so a worker that dies first
    // (before the master even learns of it) does not take the connection with it.
    worker.child.send(message, socket, { keepOpen: true }, (error) => {
      if (error === null) return;
      worker.unreachable = true;
      this.takeBack(worker, id);
    });
  }

  /**
   * A dead worker's connections it never said it took (it died first, or they were queued
   * behind an unacknowledged one) go to another worker: it never read a byte of them. Called
   * once every record it wrote has been read (taken-connections.ts); a second call finds none.
   */
  private reclaim(worker: WorkerHandle): void {
    for (const id of [...worker.handedOver.keys()]) this.takeBack(worker, id);
  }

  /** Gives a connection `worker` did not take to another worker (or the pending queue). */
  private takeBack(worker: WorkerHandle, id: number): void {
    const entry = worker.handedOver.get(id);
    if (entry === undefined) return;
    worker.handedOver.delete(id);
    if (!entry.socket.destroyed) this.dispatch(entry.listener, entry.socket);
  }

  /** Round-robin over the newest generation's ready workers (older ones while it starts). */
  private pickWorker(): WorkerHandle | undefined {
    let newest = -1;
    const candidates: WorkerHandle[] = [];
    for (const worker of this.workers) {
      if (!worker.ready || worker.draining || worker.unreachable || worker.generation < newest) continue;
      if (worker.generation > newest) {
        newest = worker.generation;
        candidates.length = 0;
      }
      candidates.push(worker);
    }
    return candidates.length === 0 ? undefined : candidates[this.nextWorker++ % candidates.length];
  }

  private flushPending(): void {
    while (this.pending.length > 0) {
      const worker = this.pickWorker();
      if (worker === undefined) return;
      const { listener, socket } = this.pending.shift()!;
      this.handOver(worker, listener, socket);
    }
  }

  /** Applies a worker's cache write; every worker (draining ones too) gets the changes, then the writer its answer. */
  private onCacheRequest(worker: WorkerHandle, request: CacheRequest): void {
    const { broadcast, reply } = this.caches.handle(request);
    if (broadcast !== undefined) this.broadcast(broadcast);
    if (reply !== undefined) this.send(worker, reply);
  }

  private broadcast(notice: CacheNotice): void {
    for (const worker of this.workers) this.send(worker, notice);
  }

  private send(worker: WorkerHandle, message: MasterMessage): void {
    // A worker that has just died may still look connected: the write then fails and its 'exit'
    // handler deals with it. Without a callback the failure is an uncaught 'error' event.
    if (worker.child.connected) worker.child.send(message, () => {});
  }
}

/** How messages name the account workers run as: `nobody`, `nobody:nogroup`, `:nogroup`. */
function workerAccount(accounts: ReturnType<typeof resolveAccounts>): string {
  return `${accounts.user?.name ?? ''}${accounts.group === undefined ? '' : `:${accounts.group.name}`}`;
}

/** What a worker opens: Node, bin/spry (and the sources beside it), and the app's file when it is one. */
function workerNeeds(config: SpryConfig): { execute: string[]; read: string[] } {
  const module = config.module?.path;
  const file = module !== undefined && (module.startsWith('/') || module.startsWith('.')) ? resolvePath(module) : undefined;
  return { execute: [process.execPath], read: [BIN, ...(file === undefined ? [] : [file])] };
}

function writePidfile(path: string, user: { id: number; gid: number } | undefined): void {
  try {
    writeFileSync(path, `${process.pid}\n`);
    // Written as root, before the drop: give it to the user, so the master can still empty it on
    // exit where the directory (/run) will not let it unlink the file.
    if (user !== undefined && process.geteuid!() === 0) chownSync(path, user.id, user.gid);
  } catch (error) {
    throw new ConfigError('--pidfile', `cannot write ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

function removePidfile(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    // Not ours to unlink after the privilege drop: at least it no longer names a dead master.
    try {
      truncateSync(path, 0);
    } catch {
      logLine(`cannot remove ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  }
}
