// Runs bin/spry.ts to completion as a user would, for tests of what a mistake looks like: exit
// status 2, exactly one stderr line naming the culprit, nothing on stdout, nothing started.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { SPRY_NODE_ARGS, SPRY_ROOT } from '../helpers/spry-command.ts';

const RUN_TIMEOUT_MS = 20_000;

export interface SpryRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `node bin/spry.ts ...args` from the project root, until it exits (or is killed after 20 s). */
export function runSpry(args: readonly string[]): Promise<SpryRun> {
  return new Promise((resolve) => {
    // process.execPath is the Node 24 running the tests, so bin/spry.ts's .ts imports work.
    execFile(process.execPath, [...SPRY_NODE_ARGS, ...args], { cwd: SPRY_ROOT, timeout: RUN_TIMEOUT_MS }, (error, stdout, stderr) => {
      const status = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ status, stdout, stderr });
    });
  });
}

/** Status 2, nothing on stdout, and one stderr line: `spry: ` + `expected` (or matching it). */
export async function assertConfigError(args: readonly string[], expected: string | RegExp): Promise<void> {
  const run = await runSpry(args);
  assert.equal(run.status, 2, `exit status (stderr: ${run.stderr})`);
  assert.equal(run.stdout, '');
  const lines = run.stderr.split('\n');
  assert.equal(lines.length, 2, `one stderr line, got ${JSON.stringify(run.stderr)}`);
  assert.equal(lines[1], '');
  if (typeof expected === 'string') assert.equal(lines[0], `spry: ${expected}`);
  else assert.match(lines[0], expected);
}
