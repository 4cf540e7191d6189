// nghttp (nghttp2's client) against a real spry process, over TLS (ALPN h2) and h2c with prior
// knowledge on the --http port: single fetches with and without output, and several URLs as
// concurrent streams of one connection.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SpryProcess } from '../helpers/spry-process.ts';
import { assertEnvironFor, startSpryWithBothListeners } from './fixtures.ts';
import { NGHTTP, assertExitedOk, runTool } from './tools.ts';

const NGHTTP_TIMEOUT_MS = 20_000;
const SLOW_MS = 1_000;

let spry: SpryProcess;

before(async () => {
  if (NGHTTP.skip) return;
  spry = await startSpryWithBothListeners();
}, { timeout: 30_000 });

after(async () => {
  await spry?.stop();
});

async function nghttp(args: readonly string[]): Promise<string> {
  const result = await runTool(NGHTTP, args, { timeoutMs: NGHTTP_TIMEOUT_MS });
  assertExitedOk(result, `nghttp ${args.join(' ')}`);
  return result.stdout.toString('utf8');
}

interface StatsRow {
  readonly streamId: number;
  readonly status: number;
  readonly path: string;
}

/** The rows of nghttp -s's "Request timing" table, in completion order. */
function parseStats(stdout: string): StatsRow[] {
  const table = stdout.slice(stdout.indexOf('request path\n'));
  assert.ok(table.length > 0, `no statistics table in:\n${stdout}`);
  const rows: StatsRow[] = [];
  // " 13     +2.83ms       +290us   2.54ms  200  436 /environ.json"
  for (const match of table.matchAll(/^\s*(\d+)\s+\+\S+\s+\+\S+\s+\S+\s+(\d{3})\s+\S+\s+(\S+)$/gm)) {
    rows.push({ streamId: Number(match[1]), status: Number(match[2]), path: match[3] });
  }
  return rows;
}

for (const transport of [
  { scheme: 'https', h2: true, over: 'TLS (ALPN h2)' },
  { scheme: 'http', h2: true, over: 'h2c on the --http port' },
] as const) {
  describe(`nghttp over ${transport.over}`, { skip: NGHTTP.skip }, () => {
    const origin = () => spry.listener(transport.scheme).origin;

    test('nghttp -n -s fetches /environ.json with status 200', async () => {
      const rows = parseStats(await nghttp(['-n', '-s', `${origin()}/environ.json`]));
      assert.deepEqual(rows.map(({ status, path }) => ({ status, path })), [{ status: 200, path: '/environ.json' }]);
    });

    test('nghttp prints /environ.json: HTTP/2.0 with HTTP2=on, no SPDY', async () => {
      const env = JSON.parse(await nghttp([`${origin()}/environ.json`])) as Record<string, string>;
      assertEnvironFor(env, transport, spry.listener(transport.scheme).port);
      assert.match(env.HTTP_USER_AGENT, /^nghttp2\//);
    });

    test('nghttp URL1 URL2 URL3 URL4 gets four streams of one connection', async () => {
      const urls = [1, 2, 3, 4].map((i) => `${origin()}/environ.json?i=${i}`);
      const stdout = await nghttp(urls);
      const envs = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, string>);
      assert.deepEqual(envs.map((env) => env.QUERY_STRING).sort(), ['i=1', 'i=2', 'i=3', 'i=4']);
      assert.equal(new Set(envs.map((env) => env.REMOTE_PORT)).size, 1, 'one client port: one connection');
      assert.equal(new Set(envs.map((env) => env['HTTP2.stream'])).size, 4, 'a stream each');
      for (const env of envs) assertEnvironFor(env, transport, spry.listener(transport.scheme).port);
    });

    test('nghttp -n -s with a slow URL first: the other streams finish before it, on one connection', async () => {
      const paths = [`/slow?ms=${SLOW_MS}`, '/bytes?n=1048576', '/', '/environ.json', '/status/204', '/status/404'];
      const stdout = await nghttp(['-n', '-s', '-v', ...paths.map((path) => `${origin()}${path}`)]);
      assert.equal(stdout.match(/\] Connected$/gm)?.length, 1, 'nghttp opened one connection');
      const rows = parseStats(stdout);
      assert.deepEqual(
        Object.fromEntries(rows.map(({ path, status }) => [path, status])),
        { [`/slow?ms=${SLOW_MS}`]: 200, '/bytes?n=1048576': 200, '/': 200, '/environ.json': 200, '/status/204': 204, '/status/404': 404 },
      );
      assert.equal(new Set(rows.map((row) => row.streamId)).size, paths.length);
      // Multiplexed, not queued: the slow stream, opened first, completes last.
      assert.equal(rows.at(-1)?.path, `/slow?ms=${SLOW_MS}`);
      assert.equal(Math.min(...rows.map((row) => row.streamId)), rows.at(-1)?.streamId);
    });
  });
}
