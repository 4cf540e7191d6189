// Scenario 7: a page load with push. A page (bench/apps/page.ts) links its stylesheet, script
// and logo with `Link: <…>; rel=preload`; spry has the same three files in a cache. With push
// (the default) spry sends them ahead of the page's head, so a cold load needs one round of
// requests after the handshake; with push=0 the client reads the links and asks, a second round.
// Loopback round trips cost nothing, so every connection goes through a delay proxy
// (load/delay-proxy.ts) adding RTT_MS; page-load (load/page-load.ts) makes the loads, on
// SPDY/3.1 and on h2, against both spry processes alternately.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ASSETS_DIR, ASSETS_PATH, PRELOADS } from '../apps/page.ts';
import { best, measureSideBySide, type Contender, type ScenarioContext } from '../lib/context.ts';
import { runPageLoad, type PageLoadFigures, type PageLoadOptions } from '../lib/load-runs.ts';
import { spawnManaged, type ManagedProcess } from '../lib/processes.ts';
import type { Ratio, Row, ScenarioResult } from '../lib/report.ts';
import { BENCH, LOOPBACK, NODE, ROOT, startSpry, spryTlsArgs, type RunningServer } from '../lib/servers.ts';

/** The round trip the proxy adds (half each way): a nearby server, not a far one. */
export const RTT_MS = 20;
const LOADS = 40;
const QUICK_LOADS = 15;
const WARMUP_LOADS = 5;
const QUICK_WARMUP_LOADS = 3;
const PAGE_MODULE = './bench/apps/page.ts:page';
const PROTOCOLS: readonly { readonly id: PageLoadOptions['protocol']; readonly label: string }[] = [
  { id: 'spdy/3.1', label: 'SPDY/3.1' },
  { id: 'h2', label: 'h2' },
];

export async function pageLoad(context: ScenarioContext): Promise<ScenarioResult> {
  const { plan, cert } = context;
  const loads = plan.quick ? QUICK_LOADS : LOADS;
  const warmupLoads = plan.quick ? QUICK_WARMUP_LOADS : WARMUP_LOADS;
  const cacheArgs = ['--cache2', 'name=assets,items=100', '--load-file-in-cache', `${ASSETS_PATH}=${fileURLToPath(ASSETS_DIR)}`];
  const started: ManagedProcess[] = [];
  /** spry (push on, or push=0) behind its own delay proxy: the origin is the proxy's. */
  const startBehindProxy = async (name: string, listenerExtra: string): Promise<RunningServer> => {
    const spry = await startSpry({ args: [...spryTlsArgs(cert, listenerExtra), ...cacheArgs], module: PAGE_MODULE, name });
    started.push(spry.process);
    const proxy = spawnManaged(`delay proxy → ${name}`, NODE, [join(BENCH, 'load/delay-proxy.ts'), '--rtt', String(RTT_MS), String(spry.port)], { cwd: ROOT });
    started.push(proxy);
    const port = Number((await proxy.waitFor(/^listening (\d+)$/m, 30_000))[1]);
    return { name, port, origin: `https://${LOOPBACK}:${port}`, process: spry.process };
  };

  try {
    const push = await startBehindProxy('spry, push', '');
    const noPush = await startBehindProxy('spry, push=0', ',push=0');
    const contenders: Contender<PageLoadFigures>[] = PROTOCOLS.flatMap((protocol) =>
      [push, noPush].map((server) => ({
        name: `${server.name}, ${protocol.label}`,
        start: () => Promise.resolve(server),
        measure: (running: RunningServer) => runPageLoad(running, { url: `${running.origin}/`, protocol: protocol.id, loads, warmupLoads }),
      })),
    );
    const runs = await measureSideBySide(context, contenders);
    const fastest = (run: PageLoadFigures): number => -run.pageLoadMs.p50;
    const rows: Row[] = [];
    const ratios: Ratio[] = [];
    const notes: string[] = [];
    const saved: string[] = [];
    PROTOCOLS.forEach((protocol, p) => {
      const withPush = best(runs[2 * p], fastest);
      const without = best(runs[2 * p + 1], fastest);
      rows.push(pageLoadRow(contenders[2 * p].name, withPush, runs[2 * p]), pageLoadRow(contenders[2 * p + 1].name, without, runs[2 * p + 1]));
      ratios.push({ label: `${protocol.label} page load p50, push ÷ push=0`, value: withPush.pageLoadMs.p50 / without.pageLoadMs.p50, target: { kind: 'max', value: 1 } });
      ratios.push({ label: `${protocol.label} after the handshake p50, push ÷ push=0`, value: withPush.afterSetupMs.p50 / without.afterSetupMs.p50 });
      const savedMs = without.afterSetupMs.p50 - withPush.afterSetupMs.p50;
      saved.push(`${protocol.label} ${ms(savedMs)} ms = ${(savedMs / RTT_MS).toFixed(2)} RTT`);
      notes.push(...oddities(contenders[2 * p].name, withPush, true), ...oddities(contenders[2 * p + 1].name, without, false));
    });
    notes.unshift(`push saved (after-handshake p50, push=0 − push): ${saved.join(', ')}; expected: one round trip of two, plus the second request's processing`);
    return {
      id: '7',
      title: 'page load with push: spry push vs push=0, SPDY/3.1 and h2 (page-load)',
      shape:
        `${loads} cold page loads per run (after ${warmupLoads} unmeasured), each on a fresh TLS connection through a delay proxy adding ${RTT_MS} ms per round trip; ` +
        `GET / then its ${PRELOADS.length} rel=preload links (${PRELOADS.map((preload) => preload.path).join(', ')}), pushed from --cache2 or fetched from the app; ` +
        `best of ${plan.repeats} alternating runs by page-load p50; the handshake is TLS 1.3 (1 RTT; the loopback TCP handshake is not delayed)`,
      rows,
      ratios,
      notes,
    };
  } finally {
    await Promise.all(started.map((proc) => proc.stop()));
  }
}

function ms(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function pageLoadRow(server: string, figures: PageLoadFigures, runs: readonly PageLoadFigures[]): Row {
  const spread = runs.length > 1 ? ` (runs: ${runs.map((run) => ms(run.pageLoadMs.p50)).join(', ')} ms)` : '';
  const { pageLoadMs: load, afterSetupMs: after, setupMs: setup } = figures;
  return {
    server,
    headline: `${ms(load.p50)} ms`,
    details:
      `page load p90 ${ms(load.p90)} / max ${ms(load.max)}; after the handshake p50 ${ms(after.p50)} / p90 ${ms(after.p90)} / max ${ms(after.max)}; handshake p50 ${ms(setup.p50)} ms; ` +
      `waves ${figures.waves.mean.toFixed(2)}; preloads pushed ${figures.pushedPerLoad.toFixed(1)}, fetched ${figures.fetchedPerLoad.toFixed(1)}; ` +
      `CPU server ${figures.serverCpuCores.toFixed(2)} / page-load ${figures.generatorCpuCores.toFixed(2)} cores${spread}`,
    figures: { best: figures, runs },
  };
}

/** What a reader should not have to dig out of the JSON: pushes that did not go as designed. */
function oddities(name: string, figures: PageLoadFigures, pushOn: boolean): string[] {
  const notes: string[] = [];
  if (pushOn && figures.pushedPerLoad < PRELOADS.length) {
    notes.push(`${name}: only ${figures.pushedPerLoad.toFixed(2)} of ${PRELOADS.length} preloads pushed per load (push is on and all are cached)`);
  }
  if (!pushOn && figures.pushedPerLoad > 0) notes.push(`${name}: ${figures.pushedPerLoad.toFixed(2)} preloads pushed per load with push=0`);
  if (figures.pushWaitsPerLoad > 0) notes.push(`${name}: ${figures.pushWaitsPerLoad.toFixed(2)} pushes per load were still arriving when the page's head came (waited for, not fetched)`);
  if (figures.otherPushes > 0) notes.push(`${name}: ${figures.otherPushes} pushes arrived after the page's head or for something it did not link`);
  return notes;
}
