// Scenario 10: what the access log and the metrics cost. spry with logging off, with the access
// log on (to a file, the default line), and with --metrics on, side by side, on h2 (h2load) and
// SPDY/3.1 (spdy-load). Each run sends a fixed number of requests after a warm-up of its own, and
// the figure is the spry process's CPU (utime + stime from /proc) per request: on a shared, noisy
// box that is steadier than requests/s, which every other process on it moves. Goal: logging and
// metrics each within 5 % of off, in CPU per request and in requests/s.

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { best, loadRow, measureSideBySide, median, microsPerRequest, type Contender, type ScenarioContext } from '../lib/context.ts';
import { runH2load, runSpdyLoad, type LoadFigures } from '../lib/load-runs.ts';
import type { ScenarioResult } from '../lib/report.ts';
import { HELLO_MODULE, startSpry, spryTlsArgs, type RunningServer } from '../lib/servers.ts';

const CONNECTIONS = 4;
const STREAMS = 100;

export async function observeCost(context: ScenarioContext): Promise<ScenarioResult> {
  const { plan, cert } = context;
  const requests = plan.quick ? 30_000 : 100_000;
  const warmup = plan.quick ? 10_000 : 30_000;
  const repeats = Math.max(plan.repeats, 3);
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
  const rate = (run: LoadFigures): number => run.requestsPerSecond;
  for (const [protocol, load] of [['h2', h2], ['spdy/3.1', spdy]] as const) {
    const contenders: Contender<LoadFigures>[] = variants.map(({ name, extra }) => ({
      name,
      start: () => startSpry({ args: [...spryTlsArgs(cert), ...extra], module: HELLO_MODULE }),
      measure: async (server) => {
        await load(server, warmup);
        return load(server, requests);
      },
    }));
    const runs = await measureSideBySide(context, contenders, repeats);
    const bests = runs.map((variant) => best(variant, rate));
    const cpu = runs.map((variant) => median(variant.map(microsPerRequest)));
    variants.forEach(({ name }, i) => {
      const row = loadRow(`${protocol}, ${name}`, bests[i], runs[i]);
      rows.push({ ...row, details: `${row.details}; spry CPU ${cpu[i].toFixed(1)} µs/request (median; runs: ${runs[i].map((run) => microsPerRequest(run).toFixed(1)).join(', ')})` });
    });
    ratios.push({ label: `${protocol} spry CPU per request, access log on ÷ off`, value: cpu[1] / cpu[0], target: { kind: 'max' as const, value: 1.05 } });
    ratios.push({ label: `${protocol} spry CPU per request, metrics on ÷ off`, value: cpu[2] / cpu[0], target: { kind: 'max' as const, value: 1.05 } });
    ratios.push({ label: `${protocol} req/s, access log on ÷ off`, value: rate(bests[1]) / rate(bests[0]), target: { kind: 'min' as const, value: 0.95 } });
    ratios.push({ label: `${protocol} req/s, metrics on ÷ off`, value: rate(bests[2]) / rate(bests[0]), target: { kind: 'min' as const, value: 0.95 } });
  }
  return {
    id: '10',
    title: 'access log and metrics on vs off (h2 and SPDY/3.1: spry CPU per request, requests/s)',
    shape: `${CONNECTIONS} connections × ${STREAMS} concurrent streams, GET /, ${warmup.toLocaleString('en-US')} requests of warm-up then ${requests.toLocaleString('en-US')} measured per run, ${repeats} alternating rounds; CPU per request is the median, req/s the best`,
    rows,
    ratios,
    notes: ['CPU per request: the spry process’s utime + stime (/proc/PID/stat) over the measured requests, divided by the requests that succeeded.'],
  };
}

