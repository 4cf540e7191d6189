// Scenario 1: SPDY/3.1 requests per second and latency, 100 concurrent streams on each of a
// few connections: spry vs node-spdy's server, both running bench/apps/hello.cjs, both driven
// by spdy-load. A third row runs the same load against a canned SPDY server that does almost
// no work: the generator's own ceiling, which must sit well above both.

import { best, loadRow, measureSideBySide, type Contender, type ScenarioContext } from '../lib/context.ts';
import { runSpdyLoad, type LoadFigures } from '../lib/load-runs.ts';
import { profileNotes, profileSpry } from '../lib/profile.ts';
import type { ScenarioResult } from '../lib/report.ts';
import { HELLO_MODULE, NODE, OLD_NODE, OLD_NODE_VERSION, startScriptServer, startSpry, spryTlsArgs, type RunningServer } from '../lib/servers.ts';

export const CONNECTIONS = 4;
export const STREAMS = 100;

export async function spdyRequests(context: ScenarioContext): Promise<ScenarioResult> {
  const { plan, cert } = context;
  const oldNode = OLD_NODE;
  if (oldNode === undefined) throw new Error('node-spdy needs Node < 22 on PATH (process.binding(http_parser)); none found');
  const load = (server: RunningServer): Promise<LoadFigures> =>
    runSpdyLoad(server, { url: `${server.origin}/`, connections: CONNECTIONS, streams: STREAMS, durationSeconds: plan.durationSeconds, warmupSeconds: plan.warmupSeconds });
  const contenders: Contender<LoadFigures>[] = [
    { name: 'spry', start: () => startSpry({ args: spryTlsArgs(cert), module: HELLO_MODULE }), measure: load },
    { name: 'node-spdy', start: () => startScriptServer('node-spdy', oldNode, 'node-spdy.cjs', cert), measure: load },
  ];
  const [spryRuns, nodeSpdyRuns] = await measureSideBySide(context, contenders);
  const [ceilingRuns] = await measureSideBySide(context, [{ name: 'canned SPDY server (generator ceiling)', start: () => startScriptServer('canned-spdy', NODE, 'canned-spdy.ts', cert), measure: load }], 1);
  const rate = (run: LoadFigures): number => run.requestsPerSecond;
  const spry = best(spryRuns, rate);
  const nodeSpdy = best(nodeSpdyRuns, rate);
  const ceiling = best(ceilingRuns, rate);

  const notes: string[] = [];
  if (plan.profile) notes.push(...profileNotes(await profileSpry(context, 'scenario-1-spdy', load)));
  return {
    id: '1',
    title: 'SPDY/3.1 requests/s and latency (spdy-load): spry vs node-spdy',
    shape: `${CONNECTIONS} connections × ${STREAMS} concurrent streams, GET / (14-byte body), ${plan.warmupSeconds} s warm-up + ${plan.durationSeconds} s measured, best of ${plan.repeats} alternating runs; node-spdy on Node ${OLD_NODE_VERSION}, spry on ${process.version}`,
    rows: [
      loadRow('spry', spry, spryRuns),
      loadRow('node-spdy', nodeSpdy, nodeSpdyRuns),
      loadRow('canned server (generator ceiling)', ceiling, ceilingRuns),
    ],
    ratios: [
      { label: 'SPDY/3.1 req/s, spry ÷ node-spdy', value: rate(spry) / rate(nodeSpdy), target: { kind: 'min', value: 3 } },
      { label: 'spdy-load ceiling ÷ spry (> 1: the generator was not the limit)', value: rate(ceiling) / rate(spry) },
    ],
    notes,
  };
}
