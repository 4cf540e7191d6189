// Scenario 2: HTTP/2 requests per second (h2load, ALPN h2): spry vs a bare node:http2 secure
// server running the same handler. spry's routing may cost at most 10 %.

import { best, loadRow, measureSideBySide, type Contender, type ScenarioContext } from '../lib/context.ts';
import { runH2load, type LoadFigures } from '../lib/load-runs.ts';
import { profileNotes, profileSpry } from '../lib/profile.ts';
import type { ScenarioResult } from '../lib/report.ts';
import { HELLO_MODULE, NODE, startScriptServer, startSpry, spryTlsArgs, type RunningServer } from '../lib/servers.ts';

const CONNECTIONS = 4;
const STREAMS = 100;

export async function h2Requests(context: ScenarioContext): Promise<ScenarioResult> {
  const { plan, cert } = context;
  const load = (server: RunningServer): Promise<LoadFigures> =>
    runH2load(server, { url: `${server.origin}/`, h1: false, connections: CONNECTIONS, streams: STREAMS, durationSeconds: plan.durationSeconds, warmupSeconds: plan.warmupSeconds });
  const contenders: Contender<LoadFigures>[] = [
    { name: 'spry', start: () => startSpry({ args: spryTlsArgs(cert), module: HELLO_MODULE }), measure: load },
    { name: 'node:http2', start: () => startScriptServer('node:http2', NODE, 'node-http2.ts', cert), measure: load },
  ];
  const [spryRuns, nodeRuns] = await measureSideBySide(context, contenders);
  const rate = (run: LoadFigures): number => run.requestsPerSecond;
  const spry = best(spryRuns, rate);
  const bare = best(nodeRuns, rate);
  const notes: string[] = [];
  if (spry.protocol !== 'h2' || bare.protocol !== 'h2') notes.push(`h2load negotiated ${spry.protocol} with spry and ${bare.protocol} with node:http2`);
  if (plan.profile) notes.push(...profileNotes(await profileSpry(context, 'scenario-2-h2', load)));
  return {
    id: '2',
    title: 'HTTP/2 requests/s (h2load): spry vs bare node:http2',
    shape: `${CONNECTIONS} connections × ${STREAMS} concurrent streams, GET /, ${plan.warmupSeconds} s warm-up + ${plan.durationSeconds} s measured, best of ${plan.repeats} alternating runs`,
    rows: [loadRow('spry', spry, spryRuns), loadRow('node:http2', bare, nodeRuns)],
    ratios: [{ label: 'h2 req/s, spry ÷ node:http2', value: rate(spry) / rate(bare), target: { kind: 'min', value: 0.9 } }],
    notes,
  };
}
