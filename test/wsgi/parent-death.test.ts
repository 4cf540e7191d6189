// spry's uWSGI workers die with spry: a spry (or its master) killed by SIGKILL, which cannot
// stop them itself, leaves no uWSGI process behind (src/wsgi/tied-launch.ts).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { startSpry } from '../helpers/spry-process.ts';
import { delay, SKIP_UWSGI_PYTHON, WSGI_ECHO } from '../uwsgi/helpers.ts';
import { reportedWorkerPids } from './helpers.ts';

/** How long the kernel and the reaper get to remove the orphans (an outcome, waited for). */
const GONE_WITHIN_MS = 15_000;

/** False once `pid` has exited (a zombie nobody reaped yet counts as exited). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function survivorsAfter(pids: readonly number[], limitMs: number): Promise<number[]> {
  const deadline = Date.now() + limitMs;
  let left = pids.filter(running);
  while (left.length > 0 && Date.now() < deadline) {
    await delay(50);
    left = left.filter(running);
  }
  return left;
}

describe('uWSGI workers die with spry', { skip: SKIP_UWSGI_PYTHON, timeout: 90_000 }, () => {
  for (const [what, processes] of [['a single spry', []], ['spry\'s master', ['-p', '2']]] as const) {
    test(`no uWSGI worker outlives ${what} killed by SIGKILL`, async (t) => {
      const spry = await startSpry(['--http', '127.0.0.1:0', '--wsgi-file', WSGI_ECHO, ...processes], { startTimeoutMs: 40_000 });
      const pids = reportedWorkerPids(spry.stderr());
      t.after(async () => {
        await spry.stop();
        for (const pid of pids.filter(running)) process.kill(pid, 'SIGKILL');
      });
      assert.equal(pids.length, processes.length === 0 ? 1 : 2, spry.stderr());
      assert.deepEqual(pids.filter(running), pids, 'every uWSGI worker runs before the kill');
      spry.child.kill('SIGKILL');
      assert.deepEqual(await survivorsAfter(pids, GONE_WITHIN_MS), [], `uWSGI workers still running ${GONE_WITHIN_MS} ms after spry was killed`);
    });
  }
});
