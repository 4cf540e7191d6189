// Leak test: sessions, streams and pushes are freed once their connections close (requests,
// client resets, a connection dropped mid-response, on every SPDY version). The probe runs in
// a child `node --expose-gc` so that it can collect garbage and watch a FinalizationRegistry
// (with the spry-source condition, as the npm scripts run, so a checkout without dist/ works).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { it } from 'node:test';

const PROBE = fileURLToPath(new URL('../fixtures/spdy-leak-probe.ts', import.meta.url));

it('frees every SPDY session, stream and push after its connection closed', { timeout: 60_000 }, async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=spry-source', '--expose-gc', PROBE], { timeout: 50_000 });
  const { counts, freed, open } = JSON.parse(stdout.trim().split('\n').pop()!) as { counts: Record<string, number>; freed: Record<string, number>; open: number };
  assert.equal(open, 0, 'sessions still open after their connections closed');
  assert.ok(counts.sessions === 9 && counts.streams >= 9 * 16 && counts.pushes > 0, `the probe did its work: ${JSON.stringify(counts)}`);
  assert.deepEqual(freed, counts, 'every session, stream and push was garbage-collected');
});

const H2_PROBE = fileURLToPath(new URL('../fixtures/h2-stream-release-probe.ts', import.meta.url));

it('frees every h2 exchange once its stream closed, while the session stays open', { timeout: 60_000 }, async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=spry-source', '--expose-gc', H2_PROBE], { timeout: 50_000 });
  const { counts, freed, open } = JSON.parse(stdout.trim().split('\n').pop()!) as { counts: Record<string, number>; freed: Record<string, number>; open: boolean };
  assert.ok(open, 'the session was still open when the garbage was collected');
  assert.equal(counts.exchanges, 50, 'the probe served its requests');
  assert.deepEqual(freed, counts, 'every exchange was garbage-collected');
});
