// Scenario 9: what a hostile client costs the server. Each attack (load/attack.ts: a PING flood
// that never reads, rapid reset, stalled streams at a 16 KiB window, bad request targets) runs
// for a few seconds on one connection against a fresh server process, while a legitimate client
// on another connection GETs / one request at a time. Per run: the server's CPU (utime + stime
// over the attack), its peak RSS (VmHWM) and growth over its RSS before, and the legitimate
// client's p99, beside its p99 with no attack (measured first on each server). spry runs SPDY/3.1
// and h2, node:http2 h2, node-spdy (Node 20) SPDY/3.1, all with the hello app.

import type { ScenarioContext } from '../lib/context.ts';
import { groupCpuSeconds, residentBytes, runToCompletion } from '../lib/processes.ts';
import type { Ratio, Row, ScenarioResult } from '../lib/report.ts';
import { BENCH, HELLO_MODULE, NODE, OLD_NODE, OLD_NODE_VERSION, startScriptServer, startSpry, spryTlsArgs, type RunningServer } from '../lib/servers.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ATTACKS = ['ping-flood', 'rapid-reset', 'stalled', 'bad-targets'] as const;
type Attack = (typeof ATTACKS)[number];
type Protocol = 'spdy/3.1' | 'h2';

interface Target {
  readonly name: string;
  readonly protocol: Protocol;
  start(): Promise<RunningServer>;
}

interface AttackRun {
  readonly attack: Attack | 'none';
  readonly cpuSeconds: number;
  readonly rssBeforeBytes: number;
  readonly peakRssBytes: number;
  readonly sent: number;
  readonly closedByServer: boolean;
  readonly legitimate: { readonly requests: number; readonly failed: number; readonly p50Ms: number; readonly p99Ms: number };
}

function peakResidentBytes(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(match[1]) * 1024;
}

async function runOne(server: RunningServer, protocol: Protocol, attack: Attack | 'none', seconds: number): Promise<AttackRun> {
  const pid = server.process.pid;
  const rssBeforeBytes = residentBytes(pid);
  const cpuBefore = groupCpuSeconds(pid);
  const { stdout, stderr, code } = await runToCompletion(`attack ${attack}`, NODE, ['--conditions=spry-source', join(BENCH, 'load', 'attack.ts'), attack, protocol, String(server.port), String(seconds)], (seconds + 30) * 1000);
  if (code !== 0) throw new Error(`attack ${attack} on ${server.name} exited ${code}: ${stderr.slice(-1000)}`);
  const cpuSeconds = groupCpuSeconds(pid) - cpuBefore;
  const outcome = JSON.parse(stdout.trim().split('\n').pop()!) as Omit<AttackRun, 'cpuSeconds' | 'rssBeforeBytes' | 'peakRssBytes'>;
  return { ...outcome, attack, cpuSeconds, rssBeforeBytes, peakRssBytes: peakResidentBytes(pid) };
}

/** The baseline on a fresh server, then each attack on a fresh server of its own. */
async function attackTarget(context: ScenarioContext, target: Target, seconds: number): Promise<{ baseline: AttackRun; runs: Map<Attack, AttackRun> }> {
  const once = async (attack: Attack | 'none'): Promise<AttackRun> => {
    context.log(`${target.name} ${target.protocol}: ${attack}`);
    const server = await target.start();
    try {
      return await runOne(server, target.protocol, attack, seconds);
    } finally {
      await server.process.stop();
    }
  };
  const baseline = await once('none');
  const runs = new Map<Attack, AttackRun>();
  for (const attack of ATTACKS) runs.set(attack, await once(attack));
  return { baseline, runs };
}

const MiB = 2 ** 20;

/**
 * The attack's own CPU: the run's, less what its legitimate requests cost at the baseline's CPU
 * per request (the legitimate client keeps every server busy, and is served more or less under
 * attack, so the raw figure mostly measures it).
 */
function attackCpuSeconds(run: AttackRun, baseline: AttackRun): number {
  const perRequest = baseline.legitimate.requests > 0 ? baseline.cpuSeconds / baseline.legitimate.requests : 0;
  return Math.max(0, run.cpuSeconds - perRequest * run.legitimate.requests);
}

function row(target: Target, run: AttackRun, baseline: AttackRun): Row {
  const legit = run.legitimate;
  return {
    server: `${target.name} ${target.protocol} ${run.attack}`,
    headline: `CPU ${run.cpuSeconds.toFixed(2)} s`,
    details:
      `${run.attack === 'none' ? '' : `attack's own ${attackCpuSeconds(run, baseline).toFixed(2)} s; `}peak RSS ${(run.peakRssBytes / MiB).toFixed(0)} MiB (+${(Math.max(0, run.peakRssBytes - run.rssBeforeBytes) / MiB).toFixed(1)}); sent ${run.sent.toLocaleString('en-US')}` +
      `${run.closedByServer ? ', closed by the server' : ''}; legitimate p99 ${legit.p99Ms.toFixed(1)} ms (${baseline.legitimate.p99Ms.toFixed(1)} without), ${legit.requests} requests${legit.failed > 0 ? `, ${legit.failed} FAILED` : ''}`,
    figures: { run, baseline },
  };
}

export async function abuse(context: ScenarioContext): Promise<ScenarioResult> {
  const { plan, cert } = context;
  const oldNode = OLD_NODE;
  if (oldNode === undefined) throw new Error('node-spdy needs Node < 22 on PATH (process.binding(http_parser)); none found');
  const seconds = plan.quick ? 1.5 : 2.5;
  const spry = (): Promise<RunningServer> => startSpry({ args: spryTlsArgs(cert), module: HELLO_MODULE });
  const targets: Target[] = [
    { name: 'spry', protocol: 'spdy/3.1', start: spry },
    { name: 'spry', protocol: 'h2', start: spry },
    { name: 'node:http2', protocol: 'h2', start: () => startScriptServer('node-http2', NODE, 'node-http2.ts', cert) },
    { name: 'node-spdy', protocol: 'spdy/3.1', start: () => startScriptServer('node-spdy', oldNode, 'node-spdy.cjs', cert) },
  ];
  const results = [];
  for (const target of targets) results.push({ target, ...(await attackTarget(context, target, seconds)) });

  const rows: Row[] = [];
  for (const { target, baseline, runs } of results) {
    rows.push(row(target, baseline, baseline));
    for (const run of runs.values()) rows.push(row(target, run, baseline));
  }
  const nodeHttp2 = results.find((r) => r.target.name === 'node:http2')!;
  const ratios: Ratio[] = [];
  for (const { target, baseline, runs } of results.filter((r) => r.target.name === 'spry')) {
    for (const attack of ATTACKS) {
      const ours = runs.get(attack)!;
      const theirs = nodeHttp2.runs.get(attack)!;
      const cpu = attackCpuSeconds(ours, baseline) / attackCpuSeconds(theirs, nodeHttp2.baseline);
      ratios.push({ label: `${attack}, spry ${target.protocol} ÷ node:http2: the attack's own CPU`, value: cpu, target: { kind: 'max', value: 1 } });
      ratios.push({ label: `${attack}, spry ${target.protocol} ÷ node:http2: peak RSS`, value: ours.peakRssBytes / theirs.peakRssBytes, target: { kind: 'max', value: 1 } });
      ratios.push({ label: `${attack}, spry ${target.protocol}: legitimate p99 under attack ÷ without`, value: ours.legitimate.p99Ms / baseline.legitimate.p99Ms, target: { kind: 'max', value: 2 } });
    }
  }
  return {
    id: '9',
    title: 'abuse: server CPU, peak RSS and a legitimate client’s p99 per attack',
    shape: `each attack ${seconds} s on one connection against a fresh server, a legitimate client GETting / one at a time on another; spry and node:http2 on ${process.version}, node-spdy on Node ${OLD_NODE_VERSION}`,
    rows,
    ratios,
    notes: [
      'CPU is the server process’s utime + stime over the run; the attack’s own is that less the legitimate requests served meanwhile at the baseline’s CPU per request (an estimate: the legitimate client keeps every server busy). A server that closes the attacker early spends less.',
      'Peak RSS is VmHWM, growth is over the RSS before the attack; spry’s process starts larger (its app loader, caches), so its peak ratio carries that base.',
    ],
  };
}
