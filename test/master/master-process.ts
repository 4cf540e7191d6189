// A real spry master with its workers, run as a user runs it (`node bin/spry.ts …` from the
// project root), for the master-process tests: its listeners and worker pids read from the
// "spry: serving … on URL (protocols) with N worker(s): PID, PID" lines, every stderr line kept,
// and every process it started findable afterwards through a tag in the environment the workers
// inherit. Plus the /proc look-ups, bounded waits and ports those tests need; the clients are in
// clients.ts.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { SPRY_NODE_ARGS, SPRY_ROOT as ROOT } from '../helpers/spry-command.ts';
import type { SpryTree } from './readable-tree.ts';

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

/** The environment variable (and its per-run value) every process of one spry run carries. */
const TAG_NAME = 'SPRY_MASTER_TEST_TAG';

/** "spry: serving ./examples/testapp.ts:testApp on https://127.0.0.1:777 (h2, …) with 2 worker(s): 11, 12" */
const SERVING_LINE = /^spry: serving (.+) on (https?):\/\/(\[[^\]]+\]|[^:/]+):(\d+) \(([^)]*)\) with (\d+) worker\(s\): ([\d, ]*)$/;

export const TEST_APP = ['--module', './examples/testapp.ts:testApp'] as const;

export interface MasterListener {
  readonly scheme: 'https' | 'http';
  readonly host: string;
  readonly port: number;
  readonly protocols: readonly string[];
  readonly workerPids: readonly number[];
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface SpryRun {
  readonly child: ChildProcess;
  /** The master's pid. */
  readonly pid: number;
  /** Marks this run's processes: see taggedPids(). */
  readonly tag: string;
  readonly exited: Promise<Exit>;
  stderr(): string;
  /** Resolves with the first stderr line (seen so far or later) matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` to the master and resolves with its exit; SIGKILLs it after the timeout. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
  /** Resolves with the master's exit, without signalling it; rejects after the timeout. */
  waitForExit(timeoutMs?: number): Promise<Exit>;
  /** SIGKILLs the master and every process of this run still alive (for after() hooks). */
  kill(): Promise<void>;
}

export interface RunningMaster extends SpryRun {
  readonly listeners: readonly MasterListener[];
  listener(scheme: 'https' | 'http'): MasterListener;
}

const runs = new Set<SpryRun>();

/** Spawns spry with `args`; the caller waits for what it expects (lines, exit). */
export function spawnSpry(args: readonly string[], tree?: SpryTree): SpryRun {
  const tag = randomBytes(8).toString('hex');
  const child = spawn(tree?.node ?? process.execPath, [...(tree?.nodeArgs ?? SPRY_NODE_ARGS), ...args], {
    cwd: tree?.root ?? ROOT,
    env: { ...process.env, [TAG_NAME]: tag },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const lines: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  let pending = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    stderr += text;
    pending += text;
    let newline: number;
    while ((newline = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      lines.push(line);
      for (const waiter of waiters) if (waiter.pattern.test(line)) waiter.resolve(line);
    }
  });
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.once('error', () => {});

  const run: SpryRun = {
    child,
    pid: child.pid!,
    tag,
    exited,
    stderr: () => stderr,
    waitForLine(pattern, timeoutMs = 10_000) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          pattern,
          resolve: (line: string) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(line);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no stderr line matching ${pattern} within ${timeoutMs} ms; stderr:\n${stderr}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    async stop(signal = 'SIGTERM', timeoutMs = STOP_TIMEOUT_MS) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    waitForExit(timeoutMs = STOP_TIMEOUT_MS) {
      return withTimeout(exited, timeoutMs, () => `the exit of spry ${child.pid}; stderr:\n${stderr}`);
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.race([exited, delay(2_000)]);
      for (const pid of taggedPids(tag)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      runs.delete(run);
    },
  };
  runs.add(run);
  return run;
}

/** Spawns spry and resolves once it reported every listener (one per --https2/--http). */
/** `tree`: run from that copy instead of the checkout (treeForDroppedUser, for --uid). */
export async function startMaster(args: readonly string[], tree?: SpryTree): Promise<RunningMaster> {
  const expected = args.filter((arg) => /^--(https2|http)(=|$)/.test(arg)).length;
  const run = spawnSpry(args, tree);
  const servingLines = () => run.stderr().split('\n').filter((line) => SERVING_LINE.test(line));
  try {
    await Promise.race([
      waitUntil(() => servingLines().length >= expected, () => `${expected} serving line(s) from spry; stderr:\n${run.stderr()}`, START_TIMEOUT_MS),
      run.exited.then((exit) => Promise.reject(new Error(`spry exited (${JSON.stringify(exit)}) before it was serving; stderr:\n${run.stderr()}`))),
    ]);
  } catch (error) {
    await run.kill();
    throw error;
  }
  const listeners = servingLines().map(parseServingLine);
  return {
    ...run,
    listeners,
    listener(scheme) {
      const found = listeners.find((listener) => listener.scheme === scheme);
      if (found === undefined) throw new Error(`spry reported no ${scheme} listener; stderr:\n${run.stderr()}`);
      return found;
    },
  };
}

/** Kills whatever any run of this process left behind (an after() hook for every test file). */
export async function killAllRuns(): Promise<void> {
  await Promise.all([...runs].map((run) => run.kill()));
}

function parseServingLine(line: string): MasterListener {
  const match = SERVING_LINE.exec(line)!;
  const [, , scheme, host, port, protocols, count, pids] = match;
  const workerPids = pids.split(', ').filter(Boolean).map(Number);
  assert.equal(workerPids.length, Number(count), `the serving line lists ${count} worker(s): ${line}`);
  return { scheme: scheme as 'https' | 'http', host, port: Number(port), protocols: protocols.split(', '), workerPids };
}

// ── processes, through /proc ─────────────────────────────────────────────────

/** True while `pid` is a process that has not exited (a zombie has). */
export function isAlive(pid: number): boolean {
  const status = procStatus(pid);
  return status !== undefined && !/^State:\s+Z/m.test(status);
}

/** The real, effective, saved and filesystem uids from /proc/PID/status. */
export function uidsOf(pid: number): number[] {
  const status = procStatus(pid);
  assert.ok(status !== undefined, `process ${pid} is gone`);
  return /^Uid:\s+(.*)$/m.exec(status)![1].trim().split(/\s+/).map(Number);
}

/** The parent pid from /proc/PID/status. */
export function parentOf(pid: number): number {
  const status = procStatus(pid);
  assert.ok(status !== undefined, `process ${pid} is gone`);
  return Number(/^PPid:\s+(\d+)$/m.exec(status)![1]);
}

function procStatus(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
}

/** Every live process whose environment carries this run's tag (the master and its workers). */
export function taggedPids(tag: string): number[] {
  const needle = Buffer.from(`\0${TAG_NAME}=${tag}\0`);
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const environ = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${entry}/environ`)]);
      if (environ.includes(needle) && isAlive(pid)) pids.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

/** The live processes of a run that are spry workers (SPRY_WORKER=1). */
export function taggedWorkerPids(tag: string): number[] {
  return taggedPids(tag).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`).includes('\0SPRY_WORKER=1\0');
    } catch {
      return false;
    }
  });
}

// ── waiting ──────────────────────────────────────────────────────────────────

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Polls `condition` until it holds; fails with `what` after the timeout. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string | (() => string), timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await delay(25);
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string | (() => string), onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new Error(`${typeof what === 'string' ? what : what()}: no answer within ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ── ports ────────────────────────────────────────────────────────────────────

/** Listens on host:port in this process (to occupy it, or to learn that it is free). */
export function listenOn(port: number, host = '127.0.0.1'): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  try {
    await closeServer(await listenOn(port, host));
    return true;
  } catch {
    return false;
  }
}

/** `count` distinct ports from 600–999 that are free right now (binding below 1024 needs root). */
export async function freePrivilegedPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let attempt = 0; ports.length < count && attempt < 200; attempt++) {
    const port = 600 + Math.floor(Math.random() * 400);
    if (!ports.includes(port) && (await isPortFree(port))) ports.push(port);
  }
  assert.equal(ports.length, count, 'no free ports in 600–999');
  return ports;
}

/**
 * Starts spry on privileged ports chosen at random, choosing again if another process took one
 * between our check and spry's bind (spry then exits 2 with EADDRINUSE).
 */
export async function startOnPrivilegedPorts(count: number, args: (ports: number[]) => string[], tree?: SpryTree): Promise<{ spry: RunningMaster; ports: number[] }> {
  for (let attempt = 1; ; attempt++) {
    const ports = await freePrivilegedPorts(count);
    try {
      return { spry: await startMaster(args(ports), tree), ports };
    } catch (error) {
      if (attempt >= 5 || !String(error).includes('EADDRINUSE')) throw error;
    }
  }
}
