// Graceful reload: SIGHUP (or touching a --touch-reload file) starts a new generation of
// workers and retires the old one once the new is ready; in-flight requests finish, new ones go
// to the new workers, and no request is lost on the way.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { connect as http2Connect } from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { SpdyClient } from '../../src/spdy/client.ts';
import { runLoad } from './load.ts';
import {
  h2Get,
  h2Request,
  isRefusal,
  processInfo,
  retryingRefusals,
  spdyGet,
  spdyRequest,
  type Answer,
} from './clients.ts';
import {
  delay,
  isAlive,
  killAllRuns,
  startMaster,
  TEST_APP,
  waitUntil,
  withTimeout,
  type RunningMaster,
} from './master-process.ts';

after(killAllRuns);

/** Fresh-connection requests until `count` distinct worker pids answered. */
async function servingPids(port: number, count: number): Promise<Set<number>> {
  const pids = new Set<number>();
  await waitUntil(async () => {
    for (let n = 0; n < 2 * count; n++) pids.add(processInfo(await retryingRefusals(() => (n % 2 === 0 ? spdyGet(port, '/process.json') : h2Get(port, '/process.json')))).pid);
    return pids.size >= count;
  }, `${count} workers to answer`);
  return pids;
}

describe('SIGHUP to a master with -p 2, under continuous spdy/3.1 and h2 load', () => {
  let spry: RunningMaster;
  let port: number;

  before(async () => {
    spry = await startMaster(['--https2', 'addr=127.0.0.1:0,spdy=1', ...TEST_APP, '-p', '2']);
    port = spry.listener('https').port;
  });

  after(async () => {
    await spry?.kill();
  });

  test('answers every request in full, then serves from new workers while the old ones exit', async (t) => {
    const oldPids = spry.listeners[0].workerPids;
    let reloadedAt = Infinity;
    let oldGoneAt = Infinity;
    let stop = false;
    const hardStop = Date.now() + 15_000;
    const load = runLoad(port, () => stop || Date.now() > hardStop);
    try {
      await delay(300); // load running on both old workers
      spry.child.kill('SIGHUP');
      await spry.waitForLine(/^spry: reload: new workers ready; 2 old worker\(s\) finishing/, 10_000);
      reloadedAt = Date.now();
      await waitUntil(() => oldPids.every((pid) => !isAlive(pid)), () => `the old workers ${oldPids.join(', ')} to exit; stderr:\n${spry.stderr()}`, 10_000);
      oldGoneAt = Date.now();
      await delay(300); // load running on the new workers only
    } finally {
      stop = true;
    }
    const stats = await load;
    t.diagnostic(`${stats.ok} requests answered in full, ${stats.retried} refused by the server unprocessed and retried, ${stats.failures.length} lost`);
    assert.deepEqual(stats.failures, [], `${stats.failures.length} requests lost, ${stats.ok} answered, ${stats.retried} refused and retried`);
    assert.ok(stats.ok >= 20, `only ${stats.ok} requests ran`);
    const before = new Set(stats.pids.filter(([at]) => at < reloadedAt).map(([, pid]) => pid));
    assert.ok(oldPids.some((pid) => before.has(pid)), 'the load never reached the old workers');
    const after = new Set(stats.pids.filter(([at]) => at > oldGoneAt).map(([, pid]) => pid));
    assert.ok(after.size > 0, 'no /process.json answer once the old workers were gone');
    for (const pid of after) assert.ok(!oldPids.includes(pid), `old worker ${pid} answered after the reload`);
  });

  test('serves only from two new, live workers afterwards', async () => {
    const oldPids = spry.listeners[0].workerPids;
    const now = await servingPids(port, 2);
    assert.equal(now.size, 2);
    for (const pid of now) {
      assert.ok(!oldPids.includes(pid), `pid ${pid} served before the reload too`);
      assert.ok(isAlive(pid));
    }
  });
});

describe('SIGHUP while a client the old worker accepted has not started TLS yet', () => {
  // A slow client (a mobile network, a busy laptop): its TCP connection is accepted and handed
  // to a worker, then its ClientHello arrives only after that worker was told to drain. The
  // draining worker must still answer it, or refuse the request in a way the protocol lets the
  // client retry (GOAWAY below its stream id, REFUSED_STREAM); a bare close loses it.
  let spry: RunningMaster;
  let port: number;
  let reloads = 0;

  before(async () => {
    spry = await startMaster(['--https2', 'addr=127.0.0.1:0,spdy=1', ...TEST_APP, '--master']);
    port = spry.listener('https').port;
  });

  after(async () => {
    await spry?.kill();
  });

  /** Connects over TCP only, reloads, waits until the old worker got its drain, then returns the socket. */
  async function acceptedBeforeReload(): Promise<{ raw: Socket; oldPid: number }> {
    const oldPid = processInfo(await spdyGet(port, '/process.json')).pid;
    const raw = netConnect({ host: '127.0.0.1', port });
    raw.on('error', () => {});
    await withTimeout(once(raw, 'connect'), 5_000, 'TCP connect');
    await delay(100); // the master accepts it and hands it to the current worker
    spry.child.kill('SIGHUP');
    reloads++;
    await waitUntil(() => (spry.stderr().match(/reload: new workers ready/g) ?? []).length >= reloads, () => `reload ${reloads}; stderr:\n${spry.stderr()}`);
    await delay(200); // the drain message reaches the old worker, which closes its front ends
    assert.ok(isAlive(oldPid), 'the old worker exited although it still holds a connection');
    return { raw, oldPid };
  }

  /** Whether the first answer on the slow connection was a full 200, or a refusal a fresh connection then answered. */
  async function answeredOrRetried(first: () => Promise<Answer>, retry: () => Promise<Answer>): Promise<string> {
    try {
      const answer = await first();
      assert.equal(answer.status, 200);
      processInfo(answer);
      return 'answered';
    } catch (error) {
      if (!isRefusal(error)) throw new Error(`the request was lost, not refused: ${(error as Error).message}`);
      processInfo(await retry());
      return 'refused, then answered on a new connection';
    }
  }

  test('answers (or cleanly refuses) a spdy/3.1 request on that connection', async (t) => {
    const { raw, oldPid } = await acceptedBeforeReload();
    const client = await SpdyClient.connect({ host: '127.0.0.1', port, protocol: 'spdy/3.1', tls: { socket: raw } });
    try {
      t.diagnostic(await answeredOrRetried(() => spdyRequest(client, '/process.json?slow-client=1'), () => spdyGet(port, '/process.json?retry=1')));
    } finally {
      client.session.destroy();
    }
    await waitUntil(() => !isAlive(oldPid), `the old worker ${oldPid} to exit`);
  });

  test('answers (or cleanly refuses) an h2 request on that connection', async (t) => {
    const { raw, oldPid } = await acceptedBeforeReload();
    const session = http2Connect(`https://127.0.0.1:${port}`, {
      createConnection: () => tlsConnect({ socket: raw, ALPNProtocols: ['h2'], rejectUnauthorized: false }),
    });
    session.on('error', () => {});
    try {
      t.diagnostic(await answeredOrRetried(() => h2Request(session, '/process.json?slow-client=1'), () => h2Get(port, '/process.json?retry=1')));
    } finally {
      session.destroy();
    }
    await waitUntil(() => !isAlive(oldPid), `the old worker ${oldPid} to exit`);
  });
});

describe('--touch-reload FILE', () => {
  let spry: RunningMaster;
  let port: number;
  let dir: string;
  let file: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spry-touch-'));
    file = join(dir, 'reload.touch');
    await writeFile(file, '');
    spry = await startMaster(['--https2', 'addr=127.0.0.1:0,spdy=1', ...TEST_APP, '--touch-reload', file]);
    port = spry.listener('https').port;
  });

  after(async () => {
    await spry?.kill();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('reloads when FILE gets a new modification time: a new worker pid serves and the old one exits', async () => {
    const [oldPid] = spry.listeners[0].workerPids;
    assert.equal(processInfo(await spdyGet(port, '/process.json')).pid, oldPid);
    const later = new Date(Date.now() + 60_000);
    await utimes(file, later, later);
    await spry.waitForLine(/was touched: reloading$/, 10_000);
    let pid = oldPid;
    await waitUntil(async () => {
      // Across the reload the draining worker may refuse a request unprocessed: a client retries.
      pid = processInfo(await retryingRefusals(() => h2Get(port, '/process.json'))).pid;
      return pid !== oldPid;
    }, () => `a new worker pid after touching ${file}; stderr:\n${spry.stderr()}`);
    await waitUntil(() => !isAlive(oldPid), `the old worker ${oldPid} to exit`);
    assert.ok(isAlive(pid));
  });

  test('does not reload while FILE is left alone', async () => {
    const first = processInfo(await spdyGet(port, '/process.json')).pid;
    await delay(1_500); // longer than the watcher's poll interval
    assert.equal(processInfo(await spdyGet(port, '/process.json')).pid, first);
    assert.equal(spry.stderr().match(/was touched: reloading/g)?.length, 1);
  });
});
