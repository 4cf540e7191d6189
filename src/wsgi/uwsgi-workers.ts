// The managed uWSGI workers of a Python app: N single-process uWSGI instances, worker i serving
// on `wI.sock` in a private directory (0700, made by the user the workers run as). The
// forwarding app balances over the sockets (least outstanding) and retries an idempotent
// request whose worker died under it on another one (src/upstream/forwarding-app.ts).
//
// (spry cannot hold the sockets for uWSGI: a listening net.Server accepts connections itself,
// and Node has no way to stop that while keeping the socket.)
//
// Respawn: a worker that dies is started again on its socket after the master's backoff
// (src/master/respawn-backoff.ts). Reload: the new process binds a temporary name and, once its
// app has loaded, is renamed onto the worker's socket (rename(2) is atomic: a connect() reaches
// one or the other); the old process, which keeps its now nameless socket, is then told to
// finish its request and exit. A new one that does not load is removed, and the old one serves on.

import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PythonAppConfig } from '../config/config.ts';
import { logLine } from '../log.ts';
import { CRASH_LOOP_WINDOW_MS, RespawnBackoff } from '../master/respawn-backoff.ts';
import { UwsgiProcess } from './uwsgi-process.ts';

export interface UwsgiWorkersOptions {
  readonly count: number;
  /** How long a worker may take to get ready, and to finish its request when stopped. */
  readonly mercyMs: number;
}

interface Slot {
  readonly id: number;
  readonly path: string;
  current: UwsgiProcess | undefined;
  readonly backoff: RespawnBackoff;
}

export class UwsgiWorkers {
  /** The unix socket of each worker, in id order: the forwarding app's backends. */
  readonly sockets: readonly string[];
  private readonly app: PythonAppConfig;
  private readonly options: UwsgiWorkersOptions;
  private readonly dir: string;
  private readonly slots: Slot[];
  private reloads = 0;
  private stopping = false;

  /** Resolves once every worker has loaded the app; rejects (with nothing left running) if one cannot. */
  static async start(app: PythonAppConfig, options: UwsgiWorkersOptions): Promise<UwsgiWorkers> {
    const dir = mkdtempSync(join(tmpdir(), 'spry-wsgi-'));
    const slots = Array.from({ length: options.count }, (_, i): Slot => ({ id: i + 1, path: join(dir, `w${i + 1}.sock`), current: undefined, backoff: new RespawnBackoff() }));
    const workers = new UwsgiWorkers(app, options, dir, slots);
    const started = await Promise.allSettled(slots.map(async (slot) => workers.watch(slot, await workers.started(slot.path))));
    const failure = started.find((outcome) => outcome.status === 'rejected');
    if (failure !== undefined) {
      await workers.stop();
      throw failure.reason;
    }
    return workers;
  }

  private constructor(app: PythonAppConfig, options: UwsgiWorkersOptions, dir: string, slots: Slot[]) {
    this.app = app;
    this.options = options;
    this.dir = dir;
    this.slots = slots;
    this.sockets = slots.map((slot) => slot.path);
  }

  pids(): number[] {
    return this.slots.flatMap((slot) => (slot.current?.pid === undefined ? [] : [slot.current.pid]));
  }

  /** New uWSGI processes, each serving on its worker's socket before the old one is told to finish. */
  async reload(): Promise<void> {
    const generation = ++this.reloads;
    await Promise.all(this.slots.map(async (slot) => {
      const staging = `${slot.path}.${generation}`;
      let next: UwsgiProcess;
      try {
        next = await this.started(staging);
      } catch (error) {
        rmSync(staging, { force: true });
        logLine(`uWSGI worker ${slot.id}: reload failed, the running one stays: ${(error as Error).message}`);
        return;
      }
      if (this.stopping) return void next.kill();
      renameSync(staging, slot.path);
      const old = slot.current;
      this.watch(slot, next);
      await old?.stop(this.options.mercyMs);
    }));
  }

  /** Every worker finishes its request and exits; the sockets and their directory go. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.slots.map((slot) => slot.current?.stop(this.options.mercyMs)));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A uWSGI process on `path`, once its app has loaded (a failure is already the one-line verdict). */
  private async started(path: string): Promise<UwsgiProcess> {
    const process = new UwsgiProcess(this.app, path, this.options.mercyMs);
    try {
      await process.ready;
    } catch (error) {
      process.kill();
      throw error;
    }
    return process;
  }

  /** Makes `process` the slot's, respawned when it dies unasked. */
  private watch(slot: Slot, process: UwsgiProcess): void {
    slot.current = process;
    logLine(`uWSGI worker ${slot.id} (pid ${process.pid}) serving ${this.app.source} on ${slot.path}`);
    void process.exited.then((how) => {
      if (this.stopping || process.retiring || slot.current !== process) return;
      slot.current = undefined;
      this.respawnLater(slot, `uWSGI worker ${slot.id} (pid ${process.pid}) died (${how})`);
    });
  }

  private respawnLater(slot: Slot, what: string): void {
    const delay = slot.backoff.died();
    if (delay === 'crash-loop') {
      logLine(`${what}; ${slot.backoff.recent} deaths in ${CRASH_LOOP_WINDOW_MS / 1000} s is a crash loop: not respawning`);
      return;
    }
    logLine(`${what}; respawning in ${delay} ms`);
    setTimeout(() => {
      if (this.stopping || slot.current !== undefined) return;
      this.started(slot.path).then(
        (process) => (this.stopping ? process.kill() : this.watch(slot, process)),
        (error: unknown) => this.respawnLater(slot, `uWSGI worker ${slot.id}: respawn failed: ${(error as Error).message}`),
      );
    }, delay).unref();
  }
}
