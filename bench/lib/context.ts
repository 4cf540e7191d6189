// What every scenario gets from the runner: the plan (how long, how many), the shared
// certificate, a logger for progress lines, and helpers to run contenders side by side.

import type { Certificate, RunningServer } from './servers.ts';
import type { LoadFigures } from './load-runs.ts';
import { formatLatency, formatRate, type Row } from './report.ts';

export interface Plan {
  readonly quick: boolean;
  /** Measured seconds per load run, after `warmupSeconds` of unmeasured load. */
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  /** Runs per contender, alternating between contenders; the best run is reported. */
  readonly repeats: number;
  /** Bytes moved each way in scenario 4. */
  readonly transferBytes: number;
  /** Idle connections held open in scenario 5. */
  readonly idleConnections: number;
  /** Record a CPU profile of spry under the loads of scenarios 1 and 2 (an extra, unmeasured pass). */
  readonly profile: boolean;
}

export interface ScenarioContext {
  readonly plan: Plan;
  readonly cert: Certificate;
  /** Where profiles go when plan.profile is set. */
  readonly profileDir: string;
  log(message: string): void;
}

export interface Contender<T> {
  readonly name: string;
  start(): Promise<RunningServer>;
  measure(server: RunningServer): Promise<T>;
}

/**
 * Starts every contender (each in its own process), then measures them in turn, `repeats`
 * rounds alternating A, B, A, B so drift on the machine touches both alike, and returns each
 * one's runs. With `mirrored`, every second round goes backwards (A, B, B, A, …), so a pair
 * listed side by side takes turns going first. Servers are stopped whatever happens.
 */
export async function measureSideBySide<T>(context: ScenarioContext, contenders: readonly Contender<T>[], repeats = context.plan.repeats, mirrored = false): Promise<T[][]> {
  const servers: RunningServer[] = [];
  try {
    for (const contender of contenders) servers.push(await contender.start());
    const runs: T[][] = contenders.map(() => []);
    for (let round = 0; round < repeats; round++) {
      for (let turn = 0; turn < contenders.length; turn++) {
        const i = mirrored && round % 2 === 1 ? contenders.length - 1 - turn : turn;
        context.log(`${contenders[i].name}: run ${round + 1}/${repeats}`);
        runs[i].push(await contenders[i].measure(servers[i]));
      }
    }
    return runs;
  } finally {
    await Promise.all(servers.map((server) => server.process.stop()));
  }
}

export function best<T>(runs: readonly T[], score: (run: T) => number): T {
  return runs.reduce((a, b) => (score(b) > score(a) ? b : a));
}

/** A table row for a load run: req/s, latency, both sides' CPU, failures if any. */
export function loadRow(server: string, figures: LoadFigures, runs: readonly LoadFigures[]): Row {
  const spread = runs.length > 1 ? ` (runs: ${runs.map((run) => Math.round(run.requestsPerSecond).toLocaleString('en-US')).join(', ')})` : '';
  const failed = figures.failed > 0 ? `; ${figures.failed} FAILED` : '';
  return {
    server,
    headline: formatRate(figures.requestsPerSecond),
    details: `${formatLatency(figures.latencyMs)}; CPU server ${figures.serverCpuCores.toFixed(2)} / ${figures.generator} ${figures.generatorCpuCores.toFixed(2)} cores${failed}${spread}`,
    figures: { best: figures, runs },
  };
}

/** The server's CPU per request that succeeded, in µs (utime + stime over the run). */
export function microsPerRequest(run: LoadFigures): number {
  return (run.serverCpuSeconds / Math.max(1, run.succeeded)) * 1e6;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
