// Scenario 3: HTTP/1.1 over TLS requests per second (h2load --h1, keep-alive): spry vs a bare
// node:https server running the same handler. spry's routing may cost at most 10 %.

import { best, loadRow, measureSideBySide, type Contender, type ScenarioContext } from '../lib/context.ts';
import { runH2load, type LoadFigures } from '../lib/load-runs.ts';
import type { ScenarioResult } from '../lib/report.ts';
import { HELLO_MODULE, NODE, startScriptServer, startSpry, spryTlsArgs, type RunningServer } from '../lib/servers.ts';

const CONNECTIONS = 50;

export async function h1Requests(context: ScenarioContext): Promise<ScenarioResult> {
  const { plan, cert } = context;
  const load = (server: RunningServer): Promise<LoadFigures> =>
    runH2load(server, { url: `${server.origin}/`, h1: true, connections: CONNECTIONS, streams: 1, durationSeconds: plan.durationSeconds, warmupSeconds: plan.warmupSeconds });
  const contenders: Contender<LoadFigures>[] = [
    { name: 'spry', start: () => startSpry({ args: spryTlsArgs(cert), module: HELLO_MODULE }), measure: load },
    { name: 'node:https', start: () => startScriptServer('node:https', NODE, 'node-https.ts', cert), measure: load },
  ];
  const [spryRuns, nodeRuns] = await measureSideBySide(context, contenders);
  const rate = (run: LoadFigures): number => run.requestsPerSecond;
  const spry = best(spryRuns, rate);
  const bare = best(nodeRuns, rate);
  const notes: string[] = [];
  if (spry.protocol !== 'http/1.1' || bare.protocol !== 'http/1.1') notes.push(`h2load negotiated ${spry.protocol} with spry and ${bare.protocol} with node:https`);
  return {
    id: '3',
    title: 'HTTP/1.1 over TLS requests/s (h2load --h1): spry vs bare node:https',
    shape: `${CONNECTIONS} keep-alive connections, one request at a time each, GET /, ${plan.warmupSeconds} s warm-up + ${plan.durationSeconds} s measured, best of ${plan.repeats} alternating runs`,
    rows: [loadRow('spry', spry, spryRuns), loadRow('node:https', bare, nodeRuns)],
    ratios: [{ label: 'HTTP/1.1+TLS req/s, spry ÷ node:https', value: rate(spry) / rate(bare), target: { kind: 'min', value: 0.9 } }],
    notes,
  };
}
