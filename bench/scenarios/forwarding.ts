// Scenario 6: forwarding to a uwsgi backend. One uWSGI process runs a WSGI hello app on a uwsgi
// socket; in front of it, in turn, spry (`--http … --http-to …`) and uWSGI's own HTTP router
// (`uwsgi --master --plugin http --http … --http-to …`), each one process, both driven by
// h2load --h1 over plain HTTP with keep-alive. The issue sets no target here: the ratio is
// printed for the record.

import { best, loadRow, measureSideBySide, type Contender, type ScenarioContext } from '../lib/context.ts';
import { runH2load, type LoadFigures } from '../lib/load-runs.ts';
import { profileNotes, profileSpry } from '../lib/profile.ts';
import type { ScenarioResult } from '../lib/report.ts';
import { LOOPBACK, startSpry, startUwsgiBackend, startUwsgiRouter, type RunningServer } from '../lib/servers.ts';

const CONNECTIONS = 50;

export async function forwarding(context: ScenarioContext): Promise<ScenarioResult> {
  const { plan } = context;
  const backend = await startUwsgiBackend();
  try {
    const load = (server: RunningServer): Promise<LoadFigures> =>
      runH2load(server, { url: `${server.origin}/`, h1: true, connections: CONNECTIONS, streams: 1, durationSeconds: plan.durationSeconds, warmupSeconds: plan.warmupSeconds });
    const spryArgs = ['--http', `${LOOPBACK}:0`, '--http-to', `${LOOPBACK}:${backend.port}`];
    const contenders: Contender<LoadFigures>[] = [
      { name: 'spry --http-to', start: () => startSpry({ args: spryArgs }), measure: load },
      { name: 'uWSGI http router', start: () => startUwsgiRouter(backend.port), measure: load },
    ];
    const [spryRuns, uwsgiRuns] = await measureSideBySide(context, contenders);
    const rate = (run: LoadFigures): number => run.requestsPerSecond;
    const spry = best(spryRuns, rate);
    const uwsgi = best(uwsgiRuns, rate);
    return {
      id: '6',
      title: 'Forwarding to a uwsgi backend (h2load --h1, plain HTTP): spry --http-to vs uWSGI http router',
      shape: `${CONNECTIONS} keep-alive connections, GET /, one uWSGI backend process (python3 WSGI hello), ${plan.warmupSeconds} s warm-up + ${plan.durationSeconds} s measured, best of ${plan.repeats} alternating runs; router CPU excludes the backend`,
      rows: [loadRow('spry --http-to', spry, spryRuns), loadRow('uWSGI http router', uwsgi, uwsgiRuns)],
      ratios: [{ label: 'forwarding req/s, spry ÷ uWSGI router', value: rate(spry) / rate(uwsgi) }],
      notes: plan.profile ? profileNotes(await profileSpry(context, 'scenario-6-forwarding', load, { args: spryArgs })) : [],
    };
  } finally {
    await backend.process.stop();
  }
}
