// A backend killed mid-load costs no idempotent request: two uWSGI workers behind
// `spry --http-to`, one SIGKILLed under 20 concurrent connections; every GET that was on its way
// to the dead one (refused, or reset before any byte of its response) is retried on the other.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';
import { describeCounts, runGets } from '../wsgi/helpers.ts';
import { freePort, SKIP_UWSGI_PYTHON, startUwsgi, tempDir, WSGI_ECHO, type Peer } from './helpers.ts';

const REQUESTS = 20_000;
const KILL_AFTER = 4_000;
const cleanup: (() => Promise<unknown>)[] = [];

after(async () => {
  for (const step of cleanup.reverse()) await step();
});

test('a uWSGI backend killed by SIGKILL under load loses none of tens of thousands of GETs', { skip: SKIP_UWSGI_PYTHON, timeout: 180_000 }, async () => {
  const dir = await tempDir('spry-backend-death-');
  cleanup.push(() => dir.remove());
  const ports = await Promise.all([freePort(), freePort()]);
  const backends: Peer[] = await Promise.all(ports.map((port) => startUwsgi(WSGI_ECHO, `127.0.0.1:${port}`, dir.path)));
  for (const backend of backends) cleanup.push(() => backend.stop());
  const spry: SpryProcess = await startSpry(['--http', '127.0.0.1:0', ...ports.flatMap((port) => ['--http-to', `127.0.0.1:${port}`]), '--disable-logging']);
  cleanup.push(() => spry.stop());

  let answered = 0;
  const load = runGets(spry.listener('http').port, {
    concurrency: 20,
    requests: REQUESTS,
    path: '/',
    until: () => {
      if (++answered === KILL_AFTER) backends[0].child.kill('SIGKILL');
      return false;
    },
  });
  const counts = await load;
  assert.equal(counts.total, REQUESTS);
  assert.equal(counts.statuses.get(200), REQUESTS, describeCounts(counts));
  assert.equal(counts.pids.size, 2); // both served before the kill
});
