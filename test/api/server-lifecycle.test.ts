// Test tools make and close servers by the thousand: after close() nothing of one may be left —
// no handle, no timer, no listener keeping it reachable.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { promisify } from 'node:util';

const CHURN = fileURLToPath(new URL('../fixtures/server-churn.ts', import.meta.url));

test('200 servers made, used over h2, h2c and HTTP/1.1, and closed leave no active resource behind and are all collected (--expose-gc)', { timeout: 120_000 }, async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', CHURN, '200'], { timeout: 110_000 });
  const report = JSON.parse(stdout) as { baseline: string[]; left: string[]; alive: number; rounds: number };
  assert.deepEqual(report.left, report.baseline);
  assert.equal(report.alive, 0, `${report.alive} of ${report.rounds} closed servers are still reachable`);
});
