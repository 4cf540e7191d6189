// h2load (nghttp2's load generator) runs short loads against a real spry process: h2 over TLS,
// h2c on the --http port, and HTTP/1.1 over TLS. Every request must succeed with a 2xx.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SpryProcess } from '../helpers/spry-process.ts';
import { startSpryWithBothListeners } from './fixtures.ts';
import { H2LOAD, assertExitedOk, runTool } from './tools.ts';

const H2LOAD_TIMEOUT_MS = 30_000;

let spry: SpryProcess;

before(async () => {
  if (H2LOAD.skip) return;
  spry = await startSpryWithBothListeners();
}, { timeout: 30_000 });

after(async () => {
  await spry?.stop();
});

interface H2loadSummary {
  /** "Application protocol: h2" (h2c on cleartext, http/1.1 with --h1). */
  readonly applicationProtocol: string | undefined;
  readonly requests: Record<'total' | 'started' | 'done' | 'succeeded' | 'failed' | 'errored' | 'timeout', number>;
  readonly statusCodes: Record<'2xx' | '3xx' | '4xx' | '5xx', number>;
}

/**
 * Reads h2load's summary:
 *   requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored, 0 timeout
 *   status codes: 2000 2xx, 0 3xx, 0 4xx, 0 5xx
 */
function parseSummary(stdout: string): H2loadSummary {
  const requests = /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout$/m.exec(stdout);
  const codes = /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx$/m.exec(stdout);
  assert.ok(requests !== null && codes !== null, `no h2load summary in:\n${stdout}`);
  const [total, started, done, succeeded, failed, errored, timeout] = requests.slice(1).map(Number);
  const [c2xx, c3xx, c4xx, c5xx] = codes.slice(1).map(Number);
  return {
    applicationProtocol: /^Application protocol: (\S+)$/m.exec(stdout)?.[1],
    requests: { total, started, done, succeeded, failed, errored, timeout },
    statusCodes: { '2xx': c2xx, '3xx': c3xx, '4xx': c4xx, '5xx': c5xx },
  };
}

const RUNS = [
  { name: 'h2load -n 2000 -c 4 -m 20 over TLS (h2)', scheme: 'https', args: ['-n', '2000', '-c', '4', '-m', '20'], requests: 2000, protocol: 'h2' },
  { name: 'h2load -n 2000 -c 4 -m 20 over h2c on the --http port', scheme: 'http', args: ['-n', '2000', '-c', '4', '-m', '20'], requests: 2000, protocol: 'h2c' },
  { name: 'h2load --h1 -n 1000 -c 4 over TLS (http/1.1)', scheme: 'https', args: ['--h1', '-n', '1000', '-c', '4'], requests: 1000, protocol: 'http/1.1' },
] as const;

describe('h2load', { skip: H2LOAD.skip }, () => {
  for (const run of RUNS) {
    test(`${run.name}: all ${run.requests} succeed with 2xx`, async () => {
      const result = await runTool(H2LOAD, [...run.args, `${spry.listener(run.scheme).origin}/environ.json`], { timeoutMs: H2LOAD_TIMEOUT_MS });
      assertExitedOk(result, `h2load ${run.args.join(' ')}`);
      const stdout = result.stdout.toString('utf8');
      const summary = parseSummary(stdout);
      assert.equal(summary.applicationProtocol, run.protocol, stdout);
      const n = run.requests;
      assert.deepEqual(summary.requests, { total: n, started: n, done: n, succeeded: n, failed: 0, errored: 0, timeout: 0 }, stdout);
      assert.deepEqual(summary.statusCodes, { '2xx': n, '3xx': 0, '4xx': 0, '5xx': 0 }, stdout);
    });
  }
});
