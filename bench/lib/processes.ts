// Every process the benchmark starts goes through here: each runs in its own process group (so a
// server's own children — uWSGI's gateway, spry's workers — go with it), is remembered until it
// exits, and is killed when the runner exits, whether it finishes, fails or is interrupted.
// Linux only: CPU time and resident memory are read from /proc.

import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  /** Exited and its output fully read. */
  readonly closed: Promise<number | null>;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout or stderr; rejects on exit or timeout. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** Resolves with complete line `index` (from 0) of stdout. */
  stdoutLine(index: number, timeoutMs: number): Promise<string>;
  /** Resolves with the first defined value of `probe`, tried after each piece of output. */
  waitUntil<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T>;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  readonly cwd?: string;
  /** Run through bash with the open-file soft limit raised to the hard one (`exec` keeps the pid). */
  readonly raiseFileLimit?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  /** Keep stdin open as a pipe (for processes driven over stdin). */
  readonly stdin?: boolean;
}

const live = new Set<ManagedProcess>();
/** Output kept per stream; enough for error messages and JSON results. */
const MAX_OUTPUT_CHARS = 1 << 20;
const DEFAULT_STOP_GRACE_MS = 3_000;

export function spawnManaged(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): ManagedProcess {
  const [file, argv] = options.raiseFileLimit === true ? ['bash', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'bash', command, ...args]] : [command, args];
  const child = spawn(file, argv, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: [options.stdin === true ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  let out = '';
  let err = '';
  const watchers = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    out = (out + text).slice(-MAX_OUTPUT_CHARS);
    watchers.forEach((watch) => watch());
  });
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    err = (err + text).slice(-MAX_OUTPUT_CHARS);
    watchers.forEach((watch) => watch());
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      resolve(code);
    });
    child.once('error', () => resolve(null));
  });
  const closed = new Promise<number | null>((resolve) => {
    child.once('close', (code) => resolve(code));
    child.once('error', () => resolve(null));
  });
  const pid = child.pid;
  const managed: ManagedProcess = {
    name,
    child,
    pid,
    exited,
    closed,
    stdout: () => out,
    stderr: () => err,
    waitFor(pattern, timeoutMs) {
      return managed.waitUntil(() => pattern.exec(out) ?? pattern.exec(err) ?? undefined, timeoutMs, String(pattern));
    },
    stdoutLine(index, timeoutMs) {
      return managed.waitUntil(() => completeLines(out)[index], timeoutMs, `stdout line ${index + 1}`);
    },
    waitUntil(probe, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const value = probe();
          if (value !== undefined) finish(() => resolve(value));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`${name}: no ${what} within ${timeoutMs} ms; stderr:\n${err.slice(-2000)}`))), timeoutMs);
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          watchers.delete(check);
          settle();
        };
        watchers.add(check);
        void exited.then((code) => finish(() => reject(new Error(`${name} exited (${code}) before ${what}; stderr:\n${err.slice(-2000)}`))));
        check();
      });
    },
    async stop(graceMs = DEFAULT_STOP_GRACE_MS) {
      if (child.exitCode === null && child.signalCode === null) {
        signalGroup(pid, 'SIGTERM');
        const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      // The leader is gone; anything it left in its group goes too.
      signalGroup(pid, 'SIGKILL');
      live.delete(managed);
    },
  };
  live.add(managed);
  void exited.then(() => {
    if (groupMembers(pid).length === 0) live.delete(managed);
  });
  return managed;
}

function completeLines(text: string): string[] {
  const lines = text.split('\n');
  lines.pop(); // the part after the last newline is not a complete line yet
  return lines;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is already empty
  }
}

/** Stops every process still running, in parallel. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((managed) => managed.stop(1_000)));
}

const exitCleanups: (() => void)[] = [];

/** Registers synchronous cleanup (temporary files) to run on any way out of the runner. */
export function onExit(cleanup: () => void): void {
  exitCleanups.push(cleanup);
}

/** On any way out of the runner, SIGKILL every group it started (synchronous: works in 'exit'). */
export function killAllOnExit(): void {
  const killAll = (): void => {
    for (const managed of live) signalGroup(managed.pid, 'SIGKILL');
    live.clear();
    for (const cleanup of exitCleanups.splice(0)) {
      try {
        cleanup();
      } catch {
        // best effort on the way out
      }
    }
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}: stopping every process it started\n`);
      killAll();
      process.exit(130);
    });
  }
}

// ── /proc readings ──────────────────────────────────────────────────────────

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Pids in process group `pgid` (field 5 of /proc/PID/stat). */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat !== undefined && Number(stat[2]) === pgid) members.push(Number(entry));
  }
  return members;
}

/** Fields of /proc/PID/stat after the command name (index 0 is field 3, state). */
function readStat(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) used so far by every live process in the group. */
export function groupCpuSeconds(pgid: number): number {
  let ticks = 0;
  for (const pid of groupMembers(pgid)) {
    const stat = readStat(pid);
    if (stat !== undefined) ticks += Number(stat[11]) + Number(stat[12]); // utime, stime (fields 14, 15)
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** CPU seconds (user + system) used so far by one process (not its group): field 14 + 15 of its stat. */
export function processCpuSeconds(pid: number): number {
  const stat = readStat(pid);
  if (stat === undefined) throw new Error(`no /proc/${pid}/stat`);
  return (Number(stat[11]) + Number(stat[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Throws unless `pid` is a node process itself (not a wrapper such as npx or a shell), so /proc reads it. */
export function assertNodeProcess(pid: number): void {
  const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
  if (!/(^|\/)node(\d+)?$/.test(argv0)) throw new Error(`pid ${pid} runs ${argv0}, not node: its CPU and memory would not be the server's`);
}

/**
 * Resets the process's peak resident memory (VmHWM) to its current RSS (`5` to clear_refs,
 * Linux 4.0+), so that VmHWM read later is the peak since now. False where the kernel refuses.
 */
export function resetPeakResident(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Peak resident memory of one process, in bytes (VmHWM): since it started, or since resetPeakResident. */
export function peakResidentBytes(pid: number): number {
  return statusKiB(pid, 'VmHWM') * 1024;
}

/** Resident memory of one process, in bytes (VmRSS). */
export function residentBytes(pid: number): number {
  return statusKiB(pid, 'VmRSS') * 1024;
}

function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no ${field} for pid ${pid}`);
  return Number(match[1]);
}

/** Runs a command to completion (managed, so it dies with the runner); rejects after `timeoutMs`. */
export async function runToCompletion(name: string, command: string, args: readonly string[], timeoutMs: number, options: SpawnOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const managed = spawnManaged(name, command, args, options);
  const timer = setTimeout(() => void managed.stop(1_000), timeoutMs);
  const code = await managed.closed;
  clearTimeout(timer);
  await managed.stop();
  if (code === null) throw new Error(`${name} did not finish within ${timeoutMs} ms (killed); stderr:\n${managed.stderr().slice(-2000)}`);
  return { code, stdout: managed.stdout(), stderr: managed.stderr() };
}
