// Push end to end, with spry run as a user runs it: `--cache2` plus `--load-file-in-cache` and the
// push fixture app, in one process and under a master with two workers. Clients: spry's SpdyClient
// (spdy/3.1), node:http2 and nghttp, each on fresh connections.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { headerValue, readBody, SpdyClient } from '../../src/spdy/client.ts';
import type { FlatHeaders } from '../../src/exchange/exchange.ts';
import { PAGE_BODY } from '../fixtures/push-app.ts';
import { header } from '../helpers/raw-spdy-peer.ts';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';
import { killAllRuns, startMaster, waitUntil, withTimeout, type RunningMaster } from '../master/master-process.ts';
import { NGHTTP } from '../tools/tools.ts';
import { connectH2, nghttp } from './h2-clients.ts';
import { linkPath, preload } from './push-setup.ts';

const STYLE_FILE = fileURLToPath(new URL('../fixtures/push/style.css', import.meta.url));
const APP_JS_FILE = fileURLToPath(new URL('../fixtures/push/app.js', import.meta.url));
const STYLE_CSS = readFileSync(STYLE_FILE);
const APP_JS = readFileSync(APP_JS_FILE);
const REQUEST_TIMEOUT_MS = 5_000;

const PUSH_ARGS = [
  '--module', './test/fixtures/push-app.ts',
  '--cache2', 'name=assets,items=10',
  '--load-file-in-cache', `/style.css=${STYLE_FILE}`,
  '--load-file-in-cache', `/app.js=${APP_JS_FILE}`,
] as const;

interface SpdyPageVisit {
  readonly pid: number;
  readonly status: number;
  readonly body: Buffer;
  /** Pushed path → pushed bytes, content type. */
  readonly pushes: Map<string, { body: Buffer; contentType: string | undefined }>;
}

/** GETs `path` over spdy/3.1 on a connection of its own, reading every push that comes with it. */
async function visitOverSpdy(port: number, path: string): Promise<SpdyPageVisit> {
  const client = await withTimeout(SpdyClient.connect({ host: '127.0.0.1', port, protocol: 'spdy/3.1' }), REQUEST_TIMEOUT_MS, 'a spdy/3.1 connection');
  try {
    const pending: Promise<[string, { body: Buffer; contentType: string | undefined }]>[] = [];
    client.session.on('push', (stream, headers: FlatHeaders) => {
      pending.push(
        readBody(stream).then((body) => [header(headers, ':path') ?? '', { body, contentType: header(headers, 'content-type') }]),
      );
    });
    const response = await withTimeout(client.request(path), REQUEST_TIMEOUT_MS, `spdy/3.1 GET ${path}`, () => client.session.destroy());
    const pushes = new Map(await withTimeout(Promise.all(pending), REQUEST_TIMEOUT_MS, `the pushes of ${path}`));
    return { pid: Number(headerValue(response.headers, 'x-pid')), status: response.status, body: response.body, pushes };
  } finally {
    client.session.destroy();
  }
}

/** POSTs `body` to the app's /set (cache().set of `key`) over spdy/3.1; resolves with the writer's pid. */
async function setInCache(port: number, key: string, body: Buffer, contentType: string): Promise<number> {
  const client = await SpdyClient.connect({ host: '127.0.0.1', port, protocol: 'spdy/3.1' });
  try {
    const path = `/set?k=${encodeURIComponent(key)}&type=${encodeURIComponent(contentType)}`;
    const response = await withTimeout(client.request(path, { method: 'POST', body }), REQUEST_TIMEOUT_MS, `POST ${path}`, () => client.session.destroy());
    assert.equal(response.status, 200, response.body.toString());
    return (JSON.parse(response.body.toString()) as { pid: number }).pid;
  } finally {
    client.session.destroy();
  }
}

describe('one spry process: --cache2 name=assets,items=10 --load-file-in-cache /style.css=FILE …', () => {
  let spry: SpryProcess;
  let port: number;
  let plainPort: number;

  before(async () => {
    spry = await startSpry(['--https2', 'addr=127.0.0.1:0,spdy=1', '--http', '127.0.0.1:0', ...PUSH_ARGS]);
    port = spry.listener('https').port;
    plainPort = spry.listener('http').port;
  });
  after(() => spry?.stop());

  it('pushes the loaded files over spdy/3.1 with their bytes and the content types their extensions give', async () => {
    const visit = await visitOverSpdy(port, '/page');
    assert.equal(visit.status, 200);
    assert.equal(visit.body.toString(), PAGE_BODY);
    assert.deepEqual([...visit.pushes.keys()], ['/style.css', '/app.js']);
    assert.deepEqual(visit.pushes.get('/style.css'), { body: STYLE_CSS, contentType: 'text/css; charset=utf-8' });
    assert.deepEqual(visit.pushes.get('/app.js'), { body: APP_JS, contentType: 'text/javascript; charset=utf-8' });
  });

  it('pushes the loaded files over h2 to node:http2', async () => {
    const client = await connectH2(`https://127.0.0.1:${port}`);
    try {
      await client.get('/page');
      assert.deepEqual(client.pushes.map((push) => push.path), ['/style.css', '/app.js']);
      assert.deepEqual((await client.pushes[0].response).body, STYLE_CSS);
      assert.deepEqual((await client.pushes[1].response).body, APP_JS);
    } finally {
      client.close();
    }
  });

  it('pushes the loaded files to nghttp over h2 and h2c', { skip: NGHTTP.skip }, async () => {
    for (const url of [`https://127.0.0.1:${port}/page`, `http://127.0.0.1:${plainPort}/page`]) {
      const run = await nghttp(url);
      assert.deepEqual(run.promised, ['/style.css', '/app.js'], `${url}\n${run.output}`);
    }
  });

  it('pushes an entry the app put in the cache at runtime, on the next connection', async () => {
    const page = linkPath(preload('/runtime.js'));
    assert.deepEqual([...(await visitOverSpdy(port, page)).pushes.keys()], [], 'not cached yet: not pushed');
    const body = Buffer.from('export const late = true;\n');
    await setInCache(port, '/runtime.js', body, 'text/javascript');
    const visit = await visitOverSpdy(port, page);
    assert.deepEqual(visit.pushes.get('/runtime.js'), { body, contentType: 'text/javascript' });
  });
});

describe('spry --master --processes 2 with a push cache', () => {
  let spry: RunningMaster;
  let port: number;
  let workers: readonly number[];

  before(async () => {
    spry = await startMaster(['--https2', 'addr=127.0.0.1:0,spdy=1', ...PUSH_ARGS, '--master', '--processes', '2']);
    port = spry.listener('https').port;
    workers = spry.listener('https').workerPids;
    assert.equal(workers.length, 2);
  });
  after(killAllRuns);

  /** Fresh-connection visits to `path` until every worker has served one that satisfies `ok`. */
  async function untilEveryWorker(path: string, ok: (visit: SpdyPageVisit) => boolean, what: string): Promise<Map<number, SpdyPageVisit>> {
    const satisfied = new Map<number, SpdyPageVisit>();
    await waitUntil(async () => {
      const visit = await visitOverSpdy(port, path);
      if (ok(visit)) satisfied.set(visit.pid, visit);
      return workers.every((pid) => satisfied.has(pid));
    }, () => `workers ${workers.join(', ')} to ${what}; satisfied: ${[...satisfied.keys()].join(', ') || 'none'}`);
    return satisfied;
  }

  it('every worker pushes the files loaded at startup', async () => {
    const visits = await untilEveryWorker('/page', (visit) => visit.pushes.size === 2, 'push /style.css and /app.js');
    for (const visit of visits.values()) {
      assert.deepEqual(visit.pushes.get('/style.css')?.body, STYLE_CSS);
      assert.deepEqual(visit.pushes.get('/app.js')?.body, APP_JS);
    }
  });

  it('an entry one worker puts in the cache is pushed afterwards by whichever worker serves the page', async () => {
    const page = linkPath(preload('/shared.js'));
    const body = Buffer.from('export const shared = "from one worker";\n');
    const writer = await setInCache(port, '/shared.js', body, 'text/javascript');
    assert.ok(workers.includes(writer), `the writer ${writer} is one of the workers ${workers.join(', ')}`);
    // The writer's own replica has the entry once the write resolved: its very next page pushes it.
    await waitUntil(async () => {
      const visit = await visitOverSpdy(port, page);
      if (visit.pid !== writer) return false;
      assert.deepEqual(visit.pushes.get('/shared.js'), { body, contentType: 'text/javascript' }, 'the writer pushes its own write at once');
      return true;
    }, `the writer ${writer} to serve the page`);
    // The other worker learns of it from the master's broadcast: allow it a moment.
    const visits = await untilEveryWorker(page, (visit) => visit.pushes.has('/shared.js'), 'push /shared.js');
    for (const visit of visits.values()) assert.deepEqual(visit.pushes.get('/shared.js'), { body, contentType: 'text/javascript' });
  });
});
