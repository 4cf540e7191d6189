// The loop the uwsgi and backend fuzz targets share: rounds of cases run at once against one
// spry process, each case's outcome counted; after each round, whatever spry printed is read and
// a well-formed request on a fresh connection must be answered (other connections are still
// served); memory after a GC at the start and the end.

import { SpryUnderFuzz, type Findings, type MemoryKiB } from './spry-under-fuzz.ts';
import { tally } from './wire.ts';

export interface CaseRunOptions {
  readonly seed: number;
  readonly cases: number;
  /** Cases run at once. */
  readonly concurrency: number;
  /** Rounds whose cases all come before this one are generated but not run (to replay a finding). */
  readonly skipCases?: number;
  readonly progress?: (line: string) => void;
}

export interface CaseReport extends Findings {
  readonly target: string;
  readonly seed: number;
  readonly cases: number;
  /** How the cases ended, by name. */
  readonly outcomes: Record<string, number>;
  readonly rssKiB: { readonly start: number; readonly peak: number; readonly end: number };
  readonly memoryKiB: { readonly start: MemoryKiB; readonly end: MemoryKiB };
  readonly seconds: number;
}

export interface CaseTarget<Plan> {
  readonly name: string;
  /** The next case's plan, from the seeded generator (called in case order). */
  plan(index: number): Plan;
  /** Runs one case; resolves with its outcome's name. Reports hangs and wrong answers to `spry` with `place`. */
  run(plan: Plan, index: number, place: string): Promise<string>;
  /** Undefined if a well-formed request on a fresh connection is answered; else what went wrong. */
  probe(round: number): Promise<string | undefined>;
}

export async function runCases<Plan>(target: SpryUnderFuzz, cases: CaseTarget<Plan>, options: CaseRunOptions): Promise<CaseReport> {
  const started = performance.now();
  const outcomes: Record<string, number> = {};
  const start = await target.gcMemory();
  let done = 0;
  for (let round = 0; done < options.cases && !target.exited; round++) {
    const first = done;
    const plans: Plan[] = [];
    for (let i = 0; i < options.concurrency && done < options.cases; i++) plans.push(cases.plan(done++));
    if (done <= (options.skipCases ?? 0)) continue;
    const place = `${cases.name} --seed ${options.seed} round ${round}, cases ${first}-${done - 1}`;
    const ended = await Promise.all(plans.map((plan, i) => cases.run(plan, first + i, `${cases.name} --seed ${options.seed} case ${first + i}`)));
    for (const outcome of ended) tally(outcomes, outcome);
    target.roundDone(place);
    if (target.exited) break;
    const probe = await cases.probe(round);
    if (probe !== undefined) target.hang(place, `the probe after the round: ${probe}`);
    if (round % 100 === 99) options.progress?.(`${cases.name}: ${done} cases, RSS ${target.rssKiB()} KiB`);
  }
  const end = target.exited ? start : await target.settledMemory();
  return {
    target: cases.name,
    seed: options.seed,
    cases: done,
    outcomes,
    ...target.findings,
    rssKiB: { start: start.rss, peak: Math.max(target.peakRssKiB, start.rss, end.rss), end: end.rss },
    memoryKiB: { start, end },
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}
