// The caches of a real master with two workers (`--master --processes 2`), through the cache test
// app on an --http listener: the master holds the caches, each worker a replica, and every
// request below goes on a fresh connection, which the master hands to the workers round robin.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REQUEST_TIMEOUT_MS } from '../master/clients.ts';
import { delay, isAlive, killAllRuns, startMaster, waitUntil, withTimeout, type RunningMaster } from '../master/master-process.ts';
import { TOUCH_BATCH_MS } from '../../src/cache/worker-cache.ts';

after(killAllRuns);

const CACHE_APP = ['--module', './test/fixtures/cache-app.ts'] as const;

interface Reply {
  readonly status: number;
  readonly pid: number;
  readonly contentType: string;
  readonly body: Buffer;
  json<T = Record<string, unknown>>(): T;
}

/** One HTTP/1.1 request on a connection of its own. */
function send(port: number, method: 'GET' | 'POST', path: string, body?: string | Buffer): Promise<Reply> {
  return withTimeout(
    new Promise<Reply>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            pid: Number(res.headers['x-pid']),
            contentType: res.headers['content-type'] ?? '',
            body: text,
            json: <T>() => JSON.parse(text.toString()) as T,
          });
        });
      });
      req.on('error', reject);
      req.end(body);
    }),
    REQUEST_TIMEOUT_MS,
    `${method} ${path}`,
  );
}

describe('--cache2 with --master --processes 2', () => {
  let spry: RunningMaster;
  let port: number;
  let workers: readonly number[];
  let scratch: string;

  /** Fresh-connection requests until every current worker answered `path`; their last replies by pid. */
  async function fromEveryWorker(method: 'GET' | 'POST', path: string): Promise<Map<number, Reply>> {
    const replies = new Map<number, Reply>();
    await waitUntil(async () => {
      const reply = await send(port, method, path);
      replies.set(reply.pid, reply);
      return workers.every((pid) => replies.has(pid));
    }, () => `workers ${workers.join(', ')} to answer ${path}; got ${[...replies.keys()].join(', ')}`);
    return replies;
  }

  /** Waits until every worker agrees that `key` is (or is not) in `cache`. */
  async function everyWorkerHas(cache: string, key: string, expected: boolean): Promise<void> {
    await waitUntil(async () => {
      const replies = await fromEveryWorker('GET', `/has?cache=${cache}&k=${encodeURIComponent(key)}`);
      return [...replies.values()].every((reply) => reply.json<{ has: boolean }>().has === expected);
    }, `every worker to ${expected ? 'hold' : 'have dropped'} ${key} in cache ${cache}`);
  }

  async function set(cache: string, key: string, body: string | Buffer, query = ''): Promise<Reply> {
    return send(port, 'POST', `/set?cache=${cache}&k=${encodeURIComponent(key)}${query}`, body);
  }

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'spry-cache-'));
    await writeFile(join(scratch, 'boot.txt'), 'booted');
    await writeFile(join(scratch, 'only.bin'), 'the only entry');
    spry = await startMaster([
      '--http', '127.0.0.1:0', ...CACHE_APP, '--master', '--processes', '2',
      '--cache2', 'name=shared,items=10,blocksize=64',
      '--cache2', 'name=evict,items=2',
      '--cache2', 'name=lru,items=3',
      '--cache2', 'name=strict,items=1,purge_lru=0',
      '--load-file-in-cache', `/boot.txt=${join(scratch, 'boot.txt')}`,
      '--load-file-in-cache', `strict ${join(scratch, 'only.bin')}`,
    ]);
    port = spry.listener('http').port;
    workers = spry.listeners[0].workerPids;
  });

  after(async () => {
    await spry?.kill();
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  });

  test('every worker holds the preloaded files, already when its app was imported', async () => {
    for (const reply of (await fromEveryWorker('GET', '/boot')).values()) assert.deepEqual(reply.json(), { pid: reply.pid, boot: 'booted' });
    for (const reply of (await fromEveryWorker('GET', '/get?cache=shared&k=/boot.txt')).values()) {
      assert.equal(reply.status, 200);
      assert.equal(reply.contentType, 'text/plain; charset=utf-8');
      assert.equal(reply.body.toString(), 'booted');
    }
    const [strictKey] = (await send(port, 'GET', '/keys?cache=strict')).json<{ keys: string[] }>().keys;
    assert.equal(strictKey, join(scratch, 'only.bin'), '--load-file-in-cache CACHE FILE keys the entry by FILE as written');
  });

  test('a value set through one worker is read through the other', async () => {
    const setReply = await set('shared', '/greeting.json', '{"hello":"world"}');
    assert.equal(setReply.status, 200, setReply.body.toString());
    // The other worker applies the master's broadcast about when the writer does: allow it a moment.
    let replies = new Map<number, Reply>();
    await waitUntil(async () => {
      replies = await fromEveryWorker('GET', '/get?cache=shared&k=/greeting.json');
      return [...replies.values()].every((reply) => reply.status === 200);
    }, 'both workers to read /greeting.json');
    for (const reply of replies.values()) {
      assert.equal(reply.body.toString(), '{"hello":"world"}');
      assert.equal(reply.contentType, 'application/json; charset=utf-8');
    }
  });

  test('the writer reads its own write as soon as the write resolved, bytes intact', async () => {
    const value = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff));
    for (let n = 0; n < 4; n++) {
      const key = `/bin-${n}`;
      const setReply = await set('shared', key, value, '&type=application/x-test');
      assert.equal(setReply.status, 200);
      // Fresh connections alternate workers: retry until the writer itself answers.
      await waitUntil(async () => {
        const reply = await send(port, 'GET', `/get?cache=shared&k=${key}`);
        if (reply.pid !== setReply.pid) return false;
        assert.equal(reply.status, 200, 'the writer misses its own write');
        assert.deepEqual(reply.body, value);
        assert.equal(reply.contentType, 'application/x-test');
        return true;
      }, `the writer ${setReply.pid} to answer`);
    }
  });

  test('an eviction decided by the master is seen by every worker', async () => {
    // items=2: the third key evicts the first, whichever worker wrote which.
    for (const key of ['e1', 'e2', 'e3']) assert.equal((await set('evict', key, key)).status, 200);
    await everyWorkerHas('evict', 'e1', false);
    await everyWorkerHas('evict', 'e2', true);
    await everyWorkerHas('evict', 'e3', true);
    for (const reply of (await fromEveryWorker('GET', '/keys?cache=evict')).values()) {
      const { keys, stats } = reply.json<{ keys: string[]; stats: { items: number } }>();
      assert.deepEqual(keys.sort(), ['e2', 'e3']);
      assert.equal(stats.items, 2);
    }
  });

  test('reads in a worker protect a key from eviction once their batch reached the master', async () => {
    for (const key of ['a', 'b', 'c']) assert.equal((await set('lru', key, key)).status, 200);
    await everyWorkerHas('lru', 'c', true);
    // One read in one worker: without it, 'a' is the least recently used and goes next.
    const read = await send(port, 'GET', '/get?cache=lru&k=a');
    assert.equal(read.status, 200);
    await delay(TOUCH_BATCH_MS + 1_000);
    assert.equal((await set('lru', 'd', 'd')).status, 200);
    await everyWorkerHas('lru', 'b', false);
    await everyWorkerHas('lru', 'a', true);
    await everyWorkerHas('lru', 'd', true);
  });

  test('with purge_lru=0 a full cache refuses a set in every worker, and takes it after a delete', async () => {
    for (const reply of (await fromEveryWorker('POST', '/set?cache=strict&k=new')).values()) {
      assert.equal(reply.status, 409);
      const { code, message } = reply.json<{ code: string; message: string }>();
      assert.equal(code, 'SPRY_ERR_CACHE');
      assert.match(message, /^cache "strict": no room for "new" \(1 of items=1, 1 of blocks=1 in use\) and purge_lru=0 forbids evicting$/);
    }
    const deleted = await send(port, 'POST', `/delete?cache=strict&k=${encodeURIComponent(join(scratch, 'only.bin'))}`);
    assert.deepEqual(deleted.json(), { pid: deleted.pid, deleted: true });
    assert.equal((await set('strict', 'new', 'v')).status, 200);
    await everyWorkerHas('strict', 'new', true);
  });

  test('a worker refuses a value over blocksize with the limit in the message', async () => {
    const reply = await set('shared', '/big', Buffer.alloc(65));
    assert.equal(reply.status, 409);
    assert.equal(reply.json<{ message: string }>().message, 'cache "shared": the value for "/big" is 65 bytes, more than blocksize=64 (bitmap=1 lets values span blocks)');
  });

  test('an expired entry is swept by the master and dropped by every replica', async () => {
    assert.equal((await set('shared', '/soon', 'x', '&expires=1')).status, 200);
    await everyWorkerHas('shared', '/soon', true);
    await everyWorkerHas('shared', '/soon', false);
    // Not just hidden: the master's sweep deleted it from each replica, so the count agrees.
    await waitUntil(async () => {
      const replies = await fromEveryWorker('GET', '/keys?cache=shared');
      return [...replies.values()].every((reply) => {
        const { keys, stats } = reply.json<{ keys: string[]; stats: { items: number } }>();
        return stats.items === keys.length && !keys.includes('/soon');
      });
    }, 'every replica to drop /soon', 5_000);
  });

  test('a new generation of workers (SIGHUP) starts from the master\'s current entries', async () => {
    assert.equal((await set('shared', '/before-reload', 'kept')).status, 200);
    spry.child.kill('SIGHUP');
    await spry.waitForLine(/^spry: reload: new workers ready/, 15_000);
    const old = workers;
    await waitUntil(() => old.every((pid) => !isAlive(pid)), 'the old workers to exit', 10_000);
    const fresh = new Map<number, Reply>();
    await waitUntil(async () => {
      const reply = await send(port, 'GET', '/get?cache=shared&k=/before-reload');
      fresh.set(reply.pid, reply);
      return fresh.size >= 2;
    }, 'two new workers to answer');
    for (const [pid, reply] of fresh) {
      assert.ok(!old.includes(pid), `old worker ${pid} answered`);
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), 'kept');
    }
    workers = [...fresh.keys()];
  });
});
