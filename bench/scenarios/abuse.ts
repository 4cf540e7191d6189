// Scenario 9: what a hostile client costs the server. Each attack (load/attack.ts: a PING flood
// that never reads, rapid reset, stalled streams at a 16 KiB window, bad request targets; a
// persistent attacker, which connects again when the server closes it) is measured on a fresh
// server process in three runs:
//   1. the legitimate client alone (GET / one request at a time), after a warm-up it does not
//      time: its p99 without an attack;
//   2. the attack alone: the server's CPU (utime + stime of the server's own node process,
//      /proc/PID/stat), in all and per frame sent, and its RSS growth (peak VmHWM during the
//      attack, the peak reset first, over the RSS it rested at just before);
//   3. both at once, each client in a process of its own: its p99 under attack;
//   4. the attack alone again, measured as in 2: the server has met it twice now. The first
//      attack on a fresh process also pays for V8 compiling the code it reaches (node:http2's
//      per-frame work is C++, compiled already); the second shows the steady cost. Both count.
// Each measurement is repeated on fresh servers and the median reported. spry runs SPDY/2, /3,
// /3.1 and h2, node:http2 h2, node-spdy (Node 20) SPDY/3.1 (once, for reference), all with the
// hello app.

import { median, type ScenarioContext } from '../lib/context.ts';
import { assertNodeProcess, peakResidentBytes, processCpuSeconds, residentBytes, resetPeakResident, runToCompletion } from '../lib/processes.ts';
import type { Ratio, Row, ScenarioResult } from '../lib/report.ts';
import { BENCH, HELLO_MODULE, NODE, OLD_NODE, OLD_NODE_VERSION, startScriptServer, startSpry, spryTlsArgs, type RunningServer } from '../lib/servers.ts';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const ALL_ATTACKS = ['ping-flood', 'rapid-reset', 'stalled', 'bad-targets'] as const;
type Attack = (typeof ALL_ATTACKS)[number];
/** SPRY_BENCH_ATTACKS=stalled,bad-targets runs those only (a scenario 9 of ~2 minutes each, to iterate on one). */
const ATTACKS: readonly Attack[] = chosenAttacks(process.env.SPRY_BENCH_ATTACKS);

function chosenAttacks(list: string | undefined): readonly Attack[] {
  if (list === undefined || list === '') return ALL_ATTACKS;
  const chosen = list.split(',').map((name) => name.trim());
  const unknown = chosen.filter((name) => !(ALL_ATTACKS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`SPRY_BENCH_ATTACKS: unknown attack ${unknown.join(', ')} (known: ${ALL_ATTACKS.join(', ')})`);
  return chosen as Attack[];
}
type Protocol = 'spdy/2' | 'spdy/3' | 'spdy/3.1' | 'h2';

interface Target {
  readonly name: string;
  readonly protocol: Protocol;
  start(): Promise<RunningServer>;
}

interface AttackOutcome {
  readonly sent: number;
  readonly connections: number;
  readonly closedByServer: number;
  readonly seconds: number;
}

interface Legitimate {
  readonly requests: number;
  readonly failed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** The attack alone, once: what it sent, and the server's CPU and memory over it. */
interface AttackAlone {
  readonly outcome: AttackOutcome;
  readonly cpuSeconds: number;
  readonly restingRssBytes: number;
  readonly peakRssBytes: number;
}

/** One attack on one fresh server: first on the fresh process (cold), later once more (warm). */
interface AttackRun {
  readonly cold: AttackAlone;
  readonly warm: AttackAlone;
  readonly without: Legitimate;
  readonly under: Legitimate;
}

const WARMUP_SECONDS = 0.5;
/** Quiet before the resting RSS is read and after the attack, before its CPU is: the server finishes what the attack left. */
const SETTLE_MS = 300;
/** One clock tick: CPU below it reads 0 or 0.01 s at random, so it counts as one tick in ratios. */
const CPU_FLOOR_SECONDS = 0.01;
/** RSS growth below this is the allocator's and the collector's noise (a legitimate run alone moves RSS that much). */
const RSS_FLOOR_BYTES = 2 * 2 ** 20;
const MiB = 2 ** 20;

async function client<T>(role: Attack | 'legitimate', protocol: Protocol, server: RunningServer, seconds: number, warmupSeconds = 0): Promise<T> {
  const args = ['--conditions=spry-source', join(BENCH, 'load', 'attack.ts'), role, protocol, String(server.port), String(seconds), String(warmupSeconds)];
  const { stdout, stderr, code } = await runToCompletion(`${role} client`, NODE, args, (seconds + warmupSeconds + 30) * 1000);
  if (code !== 0) throw new Error(`${role} client on ${server.name} ${protocol} exited ${code}: ${stderr.slice(-1000)}`);
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

async function measureOnce(target: Target, attack: Attack, seconds: number): Promise<AttackRun> {
  const server = await target.start();
  try {
    const pid = server.process.pid;
    assertNodeProcess(pid);
    const attackAlone = async (): Promise<AttackAlone> => {
      await sleep(SETTLE_MS);
      const restingRssBytes = residentBytes(pid);
      if (!resetPeakResident(pid)) throw new Error(`cannot reset VmHWM of pid ${pid} (/proc/PID/clear_refs): no peak to measure`);
      const cpuBefore = processCpuSeconds(pid);
      const outcome = await client<AttackOutcome>(attack, target.protocol, server, seconds);
      await sleep(SETTLE_MS);
      const cpuSeconds = Math.round((processCpuSeconds(pid) - cpuBefore) * 100) / 100; // whole clock ticks
      return { outcome, cpuSeconds, restingRssBytes, peakRssBytes: peakResidentBytes(pid) };
    };
    // The warm-up (JIT, first allocations) and the legitimate client's p99 without an attack.
    const without = await client<Legitimate>('legitimate', target.protocol, server, seconds, WARMUP_SECONDS);
    const cold = await attackAlone();
    const [, under] = await Promise.all([client<AttackOutcome>(attack, target.protocol, server, seconds), client<Legitimate>('legitimate', target.protocol, server, seconds)]);
    const warm = await attackAlone();
    return { cold, warm, without, under };
  } finally {
    await server.process.stop();
  }
}

/** The medians over the repeats of one attack run alone, cold or warm. */
interface AloneSummary {
  readonly cpuSeconds: number;
  readonly cpuPerFrameMicros: number;
  readonly growthBytes: number;
  readonly restingRssBytes: number;
  readonly sent: number;
  readonly connections: number;
  readonly closedByServer: number;
  readonly cpuRuns: readonly number[];
}

/** The medians over the repeats of one target and attack. */
interface Summary {
  readonly runs: readonly AttackRun[];
  readonly cold: AloneSummary;
  readonly warm: AloneSummary;
  readonly p99WithoutMs: number;
  readonly p99UnderMs: number;
  /** Median of each run's p99 under attack ÷ its p99 without (paired: the same server, minutes apart at most). */
  readonly p99Ratio: number;
}

type Phase = 'cold' | 'warm';
const PHASES: readonly Phase[] = ['cold', 'warm'];
const PHASE_NAMES: Record<Phase, string> = { cold: 'first attack', warm: 'second attack' };

function summariseAlone(alone: readonly AttackAlone[]): AloneSummary {
  return {
    cpuSeconds: median(alone.map((one) => one.cpuSeconds)),
    cpuPerFrameMicros: median(alone.map((one) => (one.cpuSeconds / Math.max(1, one.outcome.sent)) * 1e6)),
    growthBytes: median(alone.map((one) => Math.max(0, one.peakRssBytes - one.restingRssBytes))),
    restingRssBytes: median(alone.map((one) => one.restingRssBytes)),
    sent: median(alone.map((one) => one.outcome.sent)),
    connections: median(alone.map((one) => one.outcome.connections)),
    closedByServer: median(alone.map((one) => one.outcome.closedByServer)),
    cpuRuns: alone.map((one) => one.cpuSeconds),
  };
}

function summarise(runs: readonly AttackRun[]): Summary {
  return {
    runs,
    cold: summariseAlone(runs.map((run) => run.cold)),
    warm: summariseAlone(runs.map((run) => run.warm)),
    p99WithoutMs: median(runs.map((run) => run.without.p99Ms)),
    p99UnderMs: median(runs.map((run) => run.under.p99Ms)),
    p99Ratio: median(runs.map((run) => run.under.p99Ms / run.without.p99Ms)),
  };
}

function row(target: Target, attack: Attack, summary: Summary, phase: Phase): Row {
  const alone = summary[phase];
  const { sent, connections } = alone;
  const failed = summary.runs.reduce((sum, run) => sum + run.under.failed + run.without.failed, 0);
  const legitimate =
    phase === 'cold'
      ? `; legitimate p99 ${summary.p99WithoutMs.toFixed(1)} ms without, ${summary.p99UnderMs.toFixed(1)} under (${summary.p99Ratio.toFixed(2)}x)${failed > 0 ? `, ${failed} requests FAILED` : ''}`
      : '';
  return {
    server: `${target.name} ${target.protocol} ${attack}, ${PHASE_NAMES[phase]}`,
    headline: `CPU ${alone.cpuSeconds.toFixed(2)} s`,
    details:
      `${alone.cpuPerFrameMicros.toFixed(2)} µs per ${attack === 'stalled' ? 'stream' : 'frame'} sent (${sent.toLocaleString('en-US')} sent on ${connections} connection${connections === 1 ? '' : 's'}, ${alone.closedByServer} closed by the server); ` +
      `RSS +${(alone.growthBytes / MiB).toFixed(1)} MiB over ${(alone.restingRssBytes / MiB).toFixed(0)} resting${legitimate}; ` +
      `CPU runs ${alone.cpuRuns.map((cpu) => cpu.toFixed(2)).join(', ')} s`,
    figures: { ...alone, ...(phase === 'cold' ? { p99WithoutMs: summary.p99WithoutMs, p99UnderMs: summary.p99UnderMs, p99Ratio: summary.p99Ratio } : {}) },
  };
}

/** ours ÷ theirs, each at least `floor` (below it the figures are noise, and 0 ÷ 0 says nothing). */
function flooredRatio(ours: number, theirs: number, floor: number): number {
  return Math.max(ours, floor) / Math.max(theirs, floor);
}

export async function abuse(context: ScenarioContext): Promise<ScenarioResult> {
  const { plan, cert } = context;
  const oldNode = OLD_NODE;
  if (oldNode === undefined) throw new Error('node-spdy needs Node < 22 on PATH (process.binding(http_parser)); none found');
  const seconds = 1;
  const repeats = plan.quick ? 1 : 3;
  const spry = (): Promise<RunningServer> => startSpry({ args: spryTlsArgs(cert), module: HELLO_MODULE });
  const nodeHttp2: Target = { name: 'node:http2', protocol: 'h2', start: () => startScriptServer('node-http2', NODE, 'node-http2.ts', cert) };
  const spryTargets: Target[] = (['spdy/2', 'spdy/3', 'spdy/3.1', 'h2'] as const).map((protocol) => ({ name: 'spry', protocol, start: spry }));
  const nodeSpdy: Target = { name: 'node-spdy', protocol: 'spdy/3.1', start: () => startScriptServer('node-spdy', oldNode, 'node-spdy.cjs', cert) };
  const targets: Target[] = [...spryTargets, nodeHttp2, nodeSpdy];

  // Round by round, every target in turn, so that the box's drift touches each alike.
  const runs = new Map<Target, Map<Attack, AttackRun[]>>(targets.map((target) => [target, new Map(ATTACKS.map((attack) => [attack, []]))]));
  for (let round = 0; round < repeats; round++) {
    for (const attack of ATTACKS) {
      for (const target of targets.filter((t) => round === 0 || t !== nodeSpdy)) {
        context.log(`${target.name} ${target.protocol}: ${attack}, run ${round + 1}/${repeats}`);
        runs.get(target)!.get(attack)!.push(await measureOnce(target, attack, seconds));
      }
    }
  }
  const summaries = new Map([...runs].map(([target, byAttack]) => [target, new Map([...byAttack].map(([attack, list]) => [attack, summarise(list)]))]));

  const rows: Row[] = [];
  for (const [target, byAttack] of summaries) for (const [attack, summary] of byAttack) for (const phase of PHASES) rows.push(row(target, attack, summary, phase));
  const ratios: Ratio[] = [];
  const atMost = (value: number): Ratio['target'] => ({ kind: 'max', value });
  for (const target of spryTargets) {
    for (const attack of ATTACKS) {
      const ours = summaries.get(target)!.get(attack)!;
      const theirs = summaries.get(nodeHttp2)!.get(attack)!;
      for (const phase of PHASES) {
        const label = `${attack}, ${PHASE_NAMES[phase]}, spry ${target.protocol}`;
        const [mine, peer] = [ours[phase], theirs[phase]];
        ratios.push({ label: `${label} ÷ node:http2: the attack's CPU`, value: flooredRatio(mine.cpuSeconds, peer.cpuSeconds, CPU_FLOOR_SECONDS), target: atMost(1) });
        ratios.push({ label: `${label} ÷ node:http2: its CPU per ${attack === 'stalled' ? 'stream' : 'frame'} sent`, value: mine.cpuPerFrameMicros / peer.cpuPerFrameMicros, target: atMost(1) });
        ratios.push({ label: `${label} ÷ node:http2: RSS growth`, value: flooredRatio(mine.growthBytes, peer.growthBytes, RSS_FLOOR_BYTES), target: atMost(1) });
      }
      ratios.push({ label: `${attack}, spry ${target.protocol}: legitimate p99 under attack ÷ without`, value: ours.p99Ratio, target: atMost(2) });
    }
  }
  for (const attack of ATTACKS) ratios.push({ label: `${attack}, node:http2: legitimate p99 under attack ÷ without (for reference)`, value: summaries.get(nodeHttp2)!.get(attack)!.p99Ratio });
  return {
    id: '9',
    title: 'abuse: the attack’s server CPU and RSS growth, and a legitimate client’s p99 with and without it',
    shape: `per attack and server, on a fresh server: the legitimate client alone (GET / one at a time, ${WARMUP_SECONDS} s warm-up + ${seconds} s timed), the attack alone (up to ${seconds} s or its count: the first attack), both at once in processes of their own, then the attack alone again (the second attack); median of ${repeats} fresh servers each (node-spdy: 1); spry and node:http2 on ${process.version}, node-spdy on Node ${OLD_NODE_VERSION}`,
    rows,
    ratios,
    notes: [
      'The attack’s CPU is the server’s own node process’s utime + stime (/proc/PID/stat) over the attack run alone, no legitimate client, read after a 300 ms settle; CPU time is what to compare on this shared box: wall-clock figures (the p99s) move with every other process on it, CPU time much less.',
      `Per frame (per stream for stalled) divides by the frames the attacker's socket took (written and drained), over all its connections: a server that stops reading takes fewer; one that closes early pays for the new handshakes. CPU is read in clock ticks of ${CPU_FLOOR_SECONDS} s: under one counts as one in the ratios, and a tick or two either way (a ratio of 1.5x between 0.02 and 0.03 s) is below what this measures.`,
      `RSS growth is the peak (VmHWM, reset through /proc/PID/clear_refs as the attack starts) over the RSS the same server rested at just before, so each server is measured against its own base; growth under ${RSS_FLOOR_BYTES / MiB} MiB counts as ${RSS_FLOOR_BYTES / MiB} MiB in the ratios (garbage-collector noise).`,
      'p99 ratios pair runs on the same server: under attack ÷ without, then the median over the repeats.',
      'Each attack is measured twice on each server: first on the fresh process (cold: spry also pays V8 compiling, and recompiling after a deoptimisation, the code the attack reaches, which node:http2 has in C++ already), and again after the run under attack (warm: the steady cost per frame). The goal holds for both.',
    ],
  };
}
