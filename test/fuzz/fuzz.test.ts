// The short fuzz run (a fixed seed, a few seconds): mutated frames of every type on every SPDY
// version against a real spry process leave it alive, answering fresh connections, silent on
// stderr, and holding no more live memory than it started with. The long run is `npm run fuzz`.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runFuzz } from './fuzz-runner.ts';

/** Live memory (JS heap in use, and memory outside it) may differ this much from the start. */
const LIVE_MEMORY_SLACK_KIB = 16 << 10;

it('spry survives a seeded run of mutated frames on spdy/2, spdy/3 and spdy/3.1', async () => {
  const report = await runFuzz({ versions: ['spdy/2', 'spdy/3', 'spdy/3.1'], framesPerVersion: 3000, seed: 1, concurrency: 4 });
  for (const version of report.versions) assert.ok(version.frames >= 3000, `${version.alpn}: only ${version.frames} frames sent`);
  assert.deepEqual(report.crashes, []);
  assert.deepEqual(report.hangs, []);
  assert.deepEqual(report.stackTraces, []);
  assert.deepEqual(report.unexpectedStderr, []);
  const { start, end } = report.memoryKiB;
  assert.ok(end.heapUsed - start.heapUsed < LIVE_MEMORY_SLACK_KIB, `heap in use grew from ${start.heapUsed} to ${end.heapUsed} KiB`);
  assert.ok(end.external - start.external < LIVE_MEMORY_SLACK_KIB, `external memory grew from ${start.external} to ${end.external} KiB`);
});
