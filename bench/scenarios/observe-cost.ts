// Scenario 10: what the access log and the metrics cost. spry with logging off, with the access
// log on (to a file, the default line), and with --metrics on, side by side, on h2 (h2load) and
// SPDY/3.1 (spdy-load). Each run is on a fresh spry and sends a fixed number of requests after a
// warm-up of its own, and the figure is the spry process's CPU (utime + stime from /proc) per
// request: on a shared, noisy box that is steadier than requests/s, which every other process on
// it moves. Goal: logging and metrics each within 5 % of off, in CPU per request and in
// requests/s.
//
// V8's young-generation collector is in one of two modes from run to run with the same code
// (gc-trace.ts): in the promoting one a request costs several µs more, logging on or off. So
// every spry runs with --trace-gc-nvp, each run says which mode it was in, and on and off are
// compared within one mode: runs in different modes say nothing about logging.

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { best, loadRow, median, microsPerRequest, type ScenarioContext } from '../lib/context.ts';
import { describeGc, gcWindow, type GcMode, type GcWindow } from '../lib/gc-trace.ts';
import { runH2load, runSpdyLoad, type LoadFigures } from '../lib/load-runs.ts';
import type { ScenarioResult } from '../lib/report.ts';
import { HELLO_MODULE, startSpry, spryTlsArgs, type RunningServer } from '../lib/servers.ts';

const CONNECTIONS = 4;
const STREAMS = 100;
const MODES: readonly GcMode[] = ['light', 'promoting'];

interface ObservedRun {
  readonly load: LoadFigures;
  readonly gc: GcWindow;
}

export async function observeCost(context: ScenarioContext): Promise<ScenarioResult> {
  const { plan, cert } = context;
  const requests = plan.quick ? 30_000 : 100_000;
  const warmup = plan.quick ? 10_000 : 30_000;
  const repeats = Math.max(plan.repeats, plan.quick ? 3 : 5);
  const shape = { url: '', connections: CONNECTIONS, streams: STREAMS, durationSeconds: 0, warmupSeconds: 0 };
  const h2 = (server: RunningServer, n: number): Promise<LoadFigures> => runH2load(server, { ...shape, url: `${server.origin}/`, h1: false, requests: n });
  const spdy = (server: RunningServer, n: number): Promise<LoadFigures> => runSpdyLoad(server, { ...shape, url: `${server.origin}/`, requests: n });
  const logFile = join(tmpdir(), `spry-bench-access-${process.pid}.log`);
  const variants = [
    { name: 'logging off', extra: ['--disable-logging'] },
    { name: 'access log on', extra: ['--logto', logFile] },
    { name: 'metrics on (log off)', extra: ['--disable-logging', '--metrics', '127.0.0.1:0'] },
  ];
  const rows: ScenarioResult['rows'][number][] = [];
  const ratios: ScenarioResult['ratios'][number][] = [];
  const rate = (run: ObservedRun): number => run.load.requestsPerSecond;
  const cpu = (run: ObservedRun): number => microsPerRequest(run.load);
  for (const [protocol, load] of [['h2', h2], ['spdy/3.1', spdy]] as const) {
    // Round after round, each variant on a spry of its own: the GC mode is drawn per process.
    const runs: ObservedRun[][] = variants.map(() => []);
    for (let round = 0; round < repeats; round++) {
      for (const [i, { name, extra }] of variants.entries()) {
        context.log(`${protocol}, ${name}: run ${round + 1}/${repeats}`);
        const server = await startSpry({ args: [...spryTlsArgs(cert), ...extra], module: HELLO_MODULE, nodeArgs: ['--trace-gc-nvp'] });
        try {
          await load(server, warmup);
          const from = server.process.stdout().length;
          const figures = await load(server, requests);
          runs[i].push({ load: figures, gc: gcWindow(server.process.stdout().slice(from)) });
        } finally {
          await server.process.stop();
        }
      }
    }
    variants.forEach(({ name }, i) => {
      const mine = runs[i];
      const row = loadRow(`${protocol}, ${name}`, best(mine, rate).load, mine.map((run) => run.load));
      const perRun = mine.map((run) => `${cpu(run).toFixed(1)} (${describeGc(run.gc)}; GC pauses ${((run.gc.pauseMs * 1000) / Math.max(1, run.load.succeeded)).toFixed(1)} µs/request)`);
      rows.push({ ...row, details: `${row.details}; GC modes: ${modeCounts(mine)}; spry CPU µs/request by run: ${perRun.join(', ')}`, figures: { ...row.figures, gc: mine.map((run) => run.gc) } });
    });
    for (const [i, what] of [[1, 'access log on'], [2, 'metrics on']] as const) {
      const on = runs[i];
      const off = runs[0];
      ratios.push({ label: `${protocol} spry CPU per request, ${what} ÷ off, all runs (medians; modes on ${modeCounts(on)}, off ${modeCounts(off)})`, value: median(on.map(cpu)) / median(off.map(cpu)) });
      for (const mode of MODES) {
        const onInMode = on.filter((run) => run.gc.mode === mode);
        const offInMode = off.filter((run) => run.gc.mode === mode);
        if (onInMode.length === 0 || offInMode.length === 0) continue;
        const counted = `${onInMode.length} on, ${offInMode.length} off`;
        ratios.push({ label: `${protocol} spry CPU per request, ${what} ÷ off, both in the ${mode} GC mode (medians of ${counted})`, value: median(onInMode.map(cpu)) / median(offInMode.map(cpu)), target: { kind: 'max' as const, value: 1.05 } });
        ratios.push({ label: `${protocol} req/s, ${what} ÷ off, both in the ${mode} GC mode (best of ${counted})`, value: rate(best(onInMode, rate)) / rate(best(offInMode, rate)), target: { kind: 'min' as const, value: 0.95 } });
      }
    }
  }
  return {
    id: '10',
    title: 'access log and metrics on vs off (h2 and SPDY/3.1: spry CPU per request, requests/s), within one GC mode',
    shape: `${CONNECTIONS} connections × ${STREAMS} concurrent streams, GET /, ${warmup.toLocaleString('en-US')} requests of warm-up then ${requests.toLocaleString('en-US')} measured per run, each run on a fresh spry, ${repeats} alternating rounds; CPU per request is the median, req/s the best, of the runs in one GC mode`,
    rows,
    ratios,
    notes: [
      'CPU per request: the spry process’s utime + stime (/proc/PID/stat) over the measured requests, divided by the requests that succeeded.',
      'GC mode (bench/lib/gc-trace.ts): from spry’s --trace-gc-nvp lines over the measured requests. “promoting”: the median scavenge kept over 10 MB (copied or promoted); “light”: it kept less. Which mode a process falls into changes from run to run with the same code, logging on or off; the targets apply only to on ÷ off within one mode.',
    ],
  };
}

function modeCounts(runs: readonly ObservedRun[]): string {
  return MODES.map((mode) => `${mode} ${runs.filter((run) => run.gc.mode === mode).length}`).join(', ');
}
