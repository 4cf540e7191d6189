// The short fuzz runs (fixed seeds, a few seconds each): mutated frames of every type on every
// SPDY version, hostile uwsgi packets on --socket, and hostile backend responses over HTTP and
// uwsgi leave spry alive, answering fresh connections, silent on stderr (but for the one line a
// failed backend is logged with), and holding no more live memory than it started with. The
// long runs are `npm run fuzz` (test/fuzz/main.ts).

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runBackendFuzz } from './backend-runner.ts';
import { runFuzz } from './fuzz-runner.ts';
import type { CaseReport } from './rounds.ts';
import type { Findings, MemoryKiB } from './spry-under-fuzz.ts';
import { runUwsgiFuzz } from './uwsgi-runner.ts';

/** Live memory (JS heap in use, and memory outside it) may differ this much from the start. */
const LIVE_MEMORY_SLACK_KIB = 16 << 10;

function assertClean(report: Findings & { memoryKiB: { start: MemoryKiB; end: MemoryKiB } }): void {
  assert.deepEqual(report.crashes, []);
  assert.deepEqual(report.hangs, []);
  assert.deepEqual(report.stackTraces, []);
  assert.deepEqual(report.unexpectedStderr, []);
  assert.deepEqual(report.wrongAnswers, []);
  const { start, end } = report.memoryKiB;
  assert.ok(end.heapUsed - start.heapUsed < LIVE_MEMORY_SLACK_KIB, `heap in use grew from ${start.heapUsed} to ${end.heapUsed} KiB`);
  assert.ok(end.external - start.external < LIVE_MEMORY_SLACK_KIB, `external memory grew from ${start.external} to ${end.external} KiB`);
}

function assertAllRun(report: CaseReport, cases: number): void {
  assert.equal(report.cases, cases);
  assert.equal(Object.values(report.outcomes).reduce((sum, n) => sum + n, 0), cases, JSON.stringify(report.outcomes));
}

it('spry survives a seeded run of mutated frames on spdy/2, spdy/3 and spdy/3.1', async () => {
  const report = await runFuzz({ versions: ['spdy/2', 'spdy/3', 'spdy/3.1'], framesPerVersion: 3000, seed: 1, concurrency: 4 });
  for (const version of report.versions) assert.ok(version.frames >= 3000, `${version.alpn}: only ${version.frames} frames sent`);
  assertClean(report);
});

it('spry survives a seeded run of hostile uwsgi packets on --socket', async () => {
  const report = await runUwsgiFuzz({ seed: 1, cases: 160, concurrency: 8 });
  assertAllRun(report, 160);
  assert.ok((report.outcomes.answered ?? 0) > 0, 'no packet was answered');
  assertClean(report);
});

for (const protocol of ['http', 'uwsgi'] as const) {
  it(`spry survives a seeded run of hostile backend responses over ${protocol}`, async () => {
    const report = await runBackendFuzz(protocol, { seed: 1, cases: 48, concurrency: 8 });
    assertAllRun(report, 48);
    assert.ok((report.statuses['200'] ?? 0) > 0 && (report.statuses['502'] ?? 0) > 0, `statuses ${JSON.stringify(report.statuses)}`);
    assertClean(report);
  });
}
