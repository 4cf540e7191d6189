// Scenario 8: spry embedded with createServer() against spry run from the command line, the same
// hello handler and certificate: h2 requests per second (h2load). The library adds nothing per
// request, so the ratio should sit at 1 within the machine's noise.

import { best, loadRow, measureSideBySide, type Contender, type ScenarioContext } from '../lib/context.ts';
import { runH2load, type LoadFigures } from '../lib/load-runs.ts';
import type { ScenarioResult } from '../lib/report.ts';
import { HELLO_MODULE, NODE, startScriptServer, startSpry, spryTlsArgs, type RunningServer } from '../lib/servers.ts';

const CONNECTIONS = 4;
const STREAMS = 100;

export async function library(context: ScenarioContext): Promise<ScenarioResult> {
  const { plan, cert } = context;
  const load = (server: RunningServer): Promise<LoadFigures> =>
    runH2load(server, { url: `${server.origin}/`, h1: false, connections: CONNECTIONS, streams: STREAMS, durationSeconds: plan.durationSeconds, warmupSeconds: plan.warmupSeconds });
  const contenders: Contender<LoadFigures>[] = [
    { name: 'createServer', start: () => startScriptServer('createServer', NODE, 'spry-library.ts', cert), measure: load },
    { name: 'spry CLI', start: () => startSpry({ args: spryTlsArgs(cert), module: HELLO_MODULE }), measure: load },
  ];
  const [libraryRuns, cliRuns] = await measureSideBySide(context, contenders);
  const rate = (run: LoadFigures): number => run.requestsPerSecond;
  const embedded = best(libraryRuns, rate);
  const cli = best(cliRuns, rate);
  return {
    id: '8',
    title: 'h2 requests/s (h2load): createServer() vs the spry command line',
    shape: `${CONNECTIONS} connections × ${STREAMS} concurrent streams, GET /, ${plan.warmupSeconds} s warm-up + ${plan.durationSeconds} s measured, best of ${plan.repeats} alternating runs`,
    rows: [loadRow('createServer', embedded, libraryRuns), loadRow('spry CLI', cli, cliRuns)],
    ratios: [{ label: 'h2 req/s, createServer ÷ CLI', value: rate(embedded) / rate(cli), target: { kind: 'min', value: 0.95 } }],
    notes: embedded.protocol !== 'h2' || cli.protocol !== 'h2' ? [`h2load negotiated ${embedded.protocol} and ${cli.protocol}`] : [],
  };
}
