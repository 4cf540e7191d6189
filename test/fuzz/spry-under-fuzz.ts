// What every fuzz target's runner does with the spry process it attacks: starts it with a GC on
// demand, notices if it exits, reads its memory (resident, and after a full GC: the JS heap and
// memory outside it), and reads anything it printed besides its startup lines, round by round,
// so that a stack trace is reported with the seed and the frames that came before it.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startSpry, type SpryProcess, type StartSpryOptions } from '../helpers/spry-process.ts';

const GC_ON_SIGNAL = fileURLToPath(new URL('../../bench/tools/gc-on-signal.cjs', import.meta.url));
/** Startup lines and the GC reports: everything else on stderr is a finding. */
const EXPECTED_STDERR = [/^spry: serving /, /^spry: no cert=\/key= given/, /^gc-on-signal /];

export interface MemoryKiB {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

/** What a run found; every entry names the seed and where in the run it happened. */
export interface Findings {
  readonly crashes: string[];
  readonly hangs: string[];
  readonly stackTraces: string[];
  readonly unexpectedStderr: string[];
  /** Answers that are not HTTP, or that carry another request's bytes. */
  readonly wrongAnswers: string[];
}

export class SpryUnderFuzz {
  readonly spry: SpryProcess;
  readonly findings: Findings = { crashes: [], hangs: [], stackTraces: [], unexpectedStderr: [], wrongAnswers: [] };
  private stopping = false;
  private exitedAt: string | undefined;
  /** Where the last round's place string was, for an exit between rounds. */
  private place = 'before the first round';
  private stderrRead = 0;
  peakRssKiB = 0;

  private readonly expected: readonly RegExp[];

  private constructor(spry: SpryProcess, expected: readonly RegExp[]) {
    this.spry = spry;
    this.expected = [...EXPECTED_STDERR, ...expected];
    spry.child.once('exit', (code, signal) => {
      this.exitedAt = this.place;
      if (!this.stopping) this.findings.crashes.push(`spry exited (status ${code}, signal ${signal}) ${this.place}`);
    });
  }

  /** `expected`: lines the target prints by design (a forwarder's one line per failed backend). */
  static async start(args: readonly string[], expected: readonly RegExp[] = [], options: StartSpryOptions = {}): Promise<SpryUnderFuzz> {
    const preload = process.env.FUZZ_PRELOAD ? ` --require ${process.env.FUZZ_PRELOAD}` : '';
    const spry = await startSpry([...args, '--disable-logging'], { ...options, env: { ...process.env, NODE_OPTIONS: `--expose-gc --require ${GC_ON_SIGNAL}${preload}` } });
    return new SpryUnderFuzz(spry, expected);
  }

  get exited(): boolean {
    return this.exitedAt !== undefined;
  }

  /**
   * Ends a round: `place` says where (seed, round, frames) for whatever it printed since the
   * last round, and for a crash found later; samples resident memory.
   */
  roundDone(place: string): void {
    this.place = place;
    this.peakRssKiB = Math.max(this.peakRssKiB, this.rssKiB());
    const text = this.spry.stderr();
    const end = text.lastIndexOf('\n') + 1;
    if (end <= this.stderrRead) return;
    const lines = text.slice(this.stderrRead, end).split('\n');
    this.stderrRead = end;
    for (const line of lines) {
      if (line === '' || this.expected.some((pattern) => pattern.test(line))) continue;
      this.findings.unexpectedStderr.push(`${place}: ${line}`);
      if (/^\s+at |Error\b|\bTrace\b/.test(line)) this.findings.stackTraces.push(`${place}: ${line}`);
    }
  }

  hang(place: string, what: string): void {
    this.findings.hangs.push(`${place}: ${what}`);
  }

  wrongAnswer(place: string, what: string): void {
    this.findings.wrongAnswers.push(`${place}: ${what}`);
  }

  /** Any crash, hang, stack trace or wrong answer. */
  get failed(): boolean {
    const { crashes, hangs, stackTraces, wrongAnswers } = this.findings;
    return crashes.length + hangs.length + stackTraces.length + wrongAnswers.length > 0;
  }

  rssKiB(): number {
    try {
      const status = readFileSync(`/proc/${this.spry.child.pid}/status`, 'latin1');
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      return 0;
    }
  }

  /** Resident memory after two full collections (gc-on-signal answers SIGUSR2 on stderr). */
  async gcMemory(): Promise<MemoryKiB> {
    const before = this.spry.stderr().length;
    if (!this.exited) this.spry.child.kill('SIGUSR2');
    for (let waited = 0; waited < 5000 && !this.exited; waited += 20) {
      const match = /gc-on-signal (\{.*\})/.exec(this.spry.stderr().slice(before));
      if (match !== null) {
        const usage = JSON.parse(match[1]) as Record<keyof MemoryKiB, number>;
        const kib = (n: number): number => Math.round(n / 1024);
        return { rss: kib(usage.rss), heapUsed: kib(usage.heapUsed), heapTotal: kib(usage.heapTotal), external: kib(usage.external), arrayBuffers: kib(usage.arrayBuffers) };
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { rss: this.rssKiB(), heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
  }

  /** Waits out the sessions' idle sweeps (every second), then measures after a GC. */
  async settledMemory(): Promise<MemoryKiB> {
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const memory = await this.gcMemory();
    this.roundDone(`${this.place}, after the run`);
    return memory;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.spry.stop();
  }
}
