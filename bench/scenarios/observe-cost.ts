// Scenario 10: what the access log and the metrics cost. spry with logging off, with the access
// log on (to a file, the default line), and with --metrics on, side by side, on h2 (h2load) and
// SPDY/3.1 (spdy-load). Goal: logging and metrics each within 5 % of off.

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { best, loadRow, measureSideBySide, type Contender, type ScenarioContext } from '../lib/context.ts';
import { runH2load, runSpdyLoad, type LoadFigures } from '../lib/load-runs.ts';
import type { ScenarioResult } from '../lib/report.ts';
import { HELLO_MODULE, startSpry, spryTlsArgs, type RunningServer } from '../lib/servers.ts';

const CONNECTIONS = 4;
const STREAMS = 100;

export async function observeCost(context: ScenarioContext): Promise<ScenarioResult> {
  const { plan, cert } = context;
  const shape = { url: '', connections: CONNECTIONS, streams: STREAMS, durationSeconds: plan.durationSeconds, warmupSeconds: plan.warmupSeconds };
  const h2 = (server: RunningServer): Promise<LoadFigures> => runH2load(server, { ...shape, url: `${server.origin}/`, h1: false });
  const spdy = (server: RunningServer): Promise<LoadFigures> => runSpdyLoad(server, { ...shape, url: `${server.origin}/` });
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
    const contenders: Contender<LoadFigures>[] = variants.map(({ name, extra }) => ({ name, start: () => startSpry({ args: [...spryTlsArgs(cert), ...extra], module: HELLO_MODULE }), measure: load }));
    const runs = await measureSideBySide(context, contenders);
    const bests = runs.map((variant) => best(variant, rate));
    variants.forEach(({ name }, i) => rows.push(loadRow(`${protocol}, ${name}`, bests[i], runs[i])));
    ratios.push({ label: `${protocol} req/s, access log on ÷ off`, value: rate(bests[1]) / rate(bests[0]), target: { kind: 'min' as const, value: 0.95 } });
    ratios.push({ label: `${protocol} req/s, metrics on ÷ off`, value: rate(bests[2]) / rate(bests[0]), target: { kind: 'min' as const, value: 0.95 } });
  }
  return {
    id: '10',
    title: 'access log and metrics on vs off (h2 and SPDY/3.1 requests/s)',
    shape: `${CONNECTIONS} connections × ${STREAMS} concurrent streams, GET /, ${plan.warmupSeconds} s warm-up + ${plan.durationSeconds} s measured, best of ${plan.repeats} alternating runs`,
    rows,
    ratios,
    notes: [],
  };
}
