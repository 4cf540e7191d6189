// spry's benchmark suite: `npm run bench`. Each server runs in its own process and each load
// generator in another, one measurement at a time, spry and its peer alternating, all in this
// one invocation; a table of absolute figures and ratios (with their targets) is printed and
// written to bench/results/<timestamp>.json.
//
//   npm run bench                    the full run (about 21 minutes on 2 cores)
//   npm run bench -- --quick         a smoke run of every scenario (a minute or so); also SPRY_BENCH_QUICK=1
//   npm run bench -- --micro         the micro benchmarks (bench/micro) only
//   npm run bench -- --only 1,4      some scenarios only
//   npm run bench -- --no-profile    skip the --cpu-prof passes of scenarios 1, 2 and 6 (the full run has them)
//   npm run bench -- --profile       add them to a --quick run
//
// Only loopback addresses are used. Every child is killed when the runner ends, however it ends.

import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Plan, ScenarioContext } from './lib/context.ts';
import { killAllOnExit, stopAll } from './lib/processes.ts';
import { formatScenario, formatSummary, type ScenarioFailure, type ScenarioResult } from './lib/report.ts';
import { BENCH, makeCertificate, OLD_NODE, OLD_NODE_VERSION } from './lib/servers.ts';
import { runMicro } from './micro/run.ts';
import { abuse } from './scenarios/abuse.ts';
import { forwarding } from './scenarios/forwarding.ts';
import { h1Requests } from './scenarios/h1-requests.ts';
import { h2Requests } from './scenarios/h2-requests.ts';
import { library } from './scenarios/library.ts';
import { memory } from './scenarios/memory.ts';
import { observeCost } from './scenarios/observe-cost.ts';
import { pageLoad } from './scenarios/page-load.ts';
import { spdyRequests } from './scenarios/spdy-requests.ts';
import { staticFiles } from './scenarios/static-files.ts';
import { throughput } from './scenarios/throughput.ts';
import { websocket } from './scenarios/websocket.ts';

const SCENARIOS: readonly { readonly id: string; readonly title: string; readonly run: (context: ScenarioContext) => Promise<ScenarioResult> }[] = [
  { id: '1', title: 'SPDY/3.1 requests/s', run: spdyRequests },
  { id: '2', title: 'h2 requests/s', run: h2Requests },
  { id: '3', title: 'HTTP/1.1+TLS requests/s', run: h1Requests },
  { id: '4', title: 'SPDY/3.1 throughput', run: throughput },
  { id: '5', title: 'memory per idle connection', run: memory },
  { id: '6', title: 'forwarding to uwsgi', run: forwarding },
  { id: '7', title: 'page load with push', run: pageLoad },
  { id: '8', title: 'createServer vs the CLI', run: library },
  { id: '9', title: 'abuse: CPU, memory and latency per attack', run: abuse },
  { id: '10', title: 'access log and metrics on vs off', run: observeCost },
  { id: '11', title: 'WebSocket echo', run: websocket },
  { id: '12', title: 'static files vs nginx', run: staticFiles },
];

// Four short runs each rather than two long ones: on a shared machine, the best of more runs is
// likelier to include a quiet window for both contenders (the figures swing ±20% between runs).
const FULL: Omit<Plan, 'profile'> = { quick: false, durationSeconds: 5, warmupSeconds: 2, repeats: 4, transferBytes: 100 * 2 ** 20, idleConnections: 10_000 };
const QUICK: Omit<Plan, 'profile'> = { quick: true, durationSeconds: 2, warmupSeconds: 1, repeats: 1, transferBytes: 20 * 2 ** 20, idleConnections: 500 };
/** Whatever happens, the runner gives up after this long (the full run needs about 21 minutes). */
const WATCHDOG_MS = 30 * 60_000;

const USAGE = `usage: npm run bench [-- --quick] [--micro] [--only 1,4] [--profile | --no-profile]
  (no option)    every scenario, side by side with its peers (about 21 minutes on 2 cores)
  --quick        a smoke run of every scenario (also SPRY_BENCH_QUICK=1)
  --micro        the micro benchmarks (bench/micro) only; with --quick, a short pass
  --only IDS     these scenarios only (1-12, comma-separated)
  --no-profile   skip the --cpu-prof passes of scenarios 1, 2 and 6 (the full run has them)
  --profile      add them to a --quick run`;

function parseOptions(): { quick: boolean; micro: boolean; only?: string; profile?: boolean; 'no-profile': boolean; help: boolean } {
  try {
    return parseArgs({
      options: {
        quick: { type: 'boolean', default: process.env.SPRY_BENCH_QUICK === '1' },
        micro: { type: 'boolean', default: false },
        only: { type: 'string' },
        profile: { type: 'boolean' },
        'no-profile': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
}

async function main(): Promise<number> {
  const values = parseOptions();
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  killAllOnExit();
  const out = (line = ''): void => {
    process.stdout.write(`${line}\n`);
  };
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const resultsDir = join(BENCH, 'results');
  await mkdir(resultsDir, { recursive: true });

  if (values.micro) {
    const micro = await runMicro(values.quick);
    const file = join(resultsDir, `${stamp}-micro.json`);
    await writeFile(file, `${JSON.stringify({ setup: setup(), micro }, null, 2)}\n`);
    out(`\nresults: ${file}`);
    return 0;
  }

  const base = values.quick ? QUICK : FULL;
  const plan: Plan = { ...base, profile: values.profile ?? (!values.quick && !values['no-profile']) };
  const wanted = values.only === undefined ? undefined : new Set(values.only.split(',').map((id) => id.trim()));
  const unknown = [...(wanted ?? [])].filter((id) => !SCENARIOS.some((scenario) => scenario.id === id));
  if (unknown.length > 0) {
    process.stderr.write(`bench: no scenario ${unknown.join(', ')} (there are 1-${SCENARIOS.length})\n`);
    return 2;
  }
  const scenarios = SCENARIOS.filter((scenario) => wanted === undefined || wanted.has(scenario.id));
  const profileDir = join(resultsDir, `${stamp}-profiles`);
  if (plan.profile) await mkdir(profileDir, { recursive: true });

  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: still running after ${WATCHDOG_MS / 60_000} minutes; giving up\n`);
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();

  const started = performance.now();
  const environment = setup();
  out(`spry benchmark — ${plan.quick ? 'quick smoke run' : 'full run'}, ${new Date().toISOString()}`);
  for (const line of describeSetup(environment, plan)) out(`  ${line}`);
  out();

  const cert = await makeCertificate();
  const results: ScenarioResult[] = [];
  const failures: ScenarioFailure[] = [];
  const context: ScenarioContext = {
    plan,
    cert,
    profileDir,
    log: (message) => process.stderr.write(`  [${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${message}\n`),
  };
  try {
    for (const scenario of scenarios) {
      context.log(`scenario ${scenario.id}: ${scenario.title}`);
      try {
        const result = await scenario.run(context);
        results.push(result);
        out(formatScenario(result));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failures.push({ id: scenario.id, title: scenario.title, error: message });
        out(`${scenario.id}. ${scenario.title}: FAILED\n   ${message.split('\n').slice(0, 6).join('\n   ')}`);
      } finally {
        await stopAll(); // nothing a scenario started outlives it
      }
      out();
    }
  } finally {
    await stopAll();
    await cert.dispose();
  }

  const seconds = (performance.now() - started) / 1000;
  out(formatSummary(results, failures));
  out(`  load average at the end: ${loadavg().map((n) => n.toFixed(2)).join(' ')}; took ${seconds.toFixed(0)} s`);
  const file = join(resultsDir, `${stamp}.json`);
  await writeFile(file, `${JSON.stringify({ setup: { ...environment, plan, loadAverageAtEnd: loadavg(), seconds }, results, failures }, null, 2)}\n`);
  out(`  results: ${file}${plan.profile ? `\n  profiles: ${profileDir}` : ''}`);
  return failures.length === 0 ? 0 : 1;
}

interface Environment {
  readonly node: string;
  readonly nodeForNodeSpdy: string;
  readonly cores: number;
  readonly cpu: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly h2load: string;
  readonly uwsgi: string;
  readonly loadAverageAtStart: number[];
}

function setup(): Environment {
  return {
    node: process.version,
    nodeForNodeSpdy: OLD_NODE === undefined ? 'none found (node-spdy cases fail)' : `${OLD_NODE_VERSION} (${OLD_NODE})`,
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    h2load: toolVersion('h2load', ['--version']),
    uwsgi: toolVersion('uwsgi', ['--version']),
    loadAverageAtStart: loadavg(),
  };
}

function toolVersion(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', timeout: 10_000 }).trim().split('\n')[0];
  } catch {
    return 'not installed';
  }
}

function describeSetup(environment: Environment, plan: Plan): string[] {
  const lines = [
    `Node ${environment.node} (spry, node:http2, node:https, load generators); node-spdy on Node ${environment.nodeForNodeSpdy}`,
    `${environment.cores} cores (${environment.cpu}), ${environment.memoryGiB} GiB, Linux ${environment.kernel}; ${environment.h2load}; uWSGI ${environment.uwsgi}`,
    `each server one process (spry without workers); servers and generators share the ${environment.cores} cores; loopback only`,
    `load runs: ${plan.warmupSeconds} s warm-up + ${plan.durationSeconds} s measured, best of ${plan.repeats} alternating; ${plan.transferBytes / 2 ** 20} MiB transfers; ${plan.idleConnections} idle connections`,
    `load average at start: ${environment.loadAverageAtStart.map((n) => n.toFixed(2)).join(' ')}`,
  ];
  if (plan.quick) lines.push('quick run: one short run each, a smoke test of every scenario; use the full run for figures to compare');
  if (environment.loadAverageAtStart[0] > 0.5) lines.push('warning: something else is using the CPU (load average > 0.5): figures will be noisier');
  return lines;
}

process.exitCode = await main();
