// -p N workers share the listeners: the master accepts and hands connections round-robin, and
// replaces a worker that dies, while the others keep serving.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { h2Get, processInfo, spdyGet, type Answer } from './clients.ts';
import {
  delay,
  isAlive,
  killAllRuns,
  parentOf,
  startMaster,
  TEST_APP,
  waitUntil,
  type RunningMaster,
} from './master-process.ts';

after(killAllRuns);

/** One request on a fresh connection, alternating spdy/3.1 and h2 by `n`. */
function freshGet(port: number, n: number, path = '/process.json'): Promise<Answer> {
  return n % 2 === 0 ? spdyGet(port, path) : h2Get(port, path);
}

/**
 * Waits until the kernel has torn `pid` down (a zombie, or gone): its sockets are closed, so a
 * connection made from now on cannot have reached it. Polls tightly, so the next connection is
 * made about when the master could first learn of the death, as a client's would be in a crash.
 */
async function waitForDeath(pid: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} did not die within 5 s of SIGKILL`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('spry -p 2', () => {
  let spry: RunningMaster;
  let port: number;

  before(async () => {
    spry = await startMaster(['--https2', 'addr=127.0.0.1:0,spdy=1', ...TEST_APP, '-p', '2']);
    port = spry.listener('https').port;
  });

  after(async () => {
    await spry?.kill();
  });

  test('announces two worker pids, both alive and both children of the master', () => {
    const pids = spry.listeners[0].workerPids;
    assert.equal(new Set(pids).size, 2);
    for (const pid of pids) {
      assert.ok(isAlive(pid), `worker ${pid} is not running`);
      assert.equal(parentOf(pid), spry.pid);
    }
  });

  test('hands fresh connections to both workers', async () => {
    const served = new Set<number>();
    for (let n = 0; n < 8; n++) served.add(processInfo(await freshGet(port, n)).pid);
    assert.deepEqual([...served].sort(), [...spry.listeners[0].workerPids].sort());
  });

  test('replaces a worker killed with SIGKILL while every request on fresh connections gets a full 200', async () => {
    const original = spry.listeners[0].workerPids;
    const [victim, survivor] = original;
    const failures: string[] = [];
    const servedAfterKill = new Set<number>();
    let requests = 0;
    let killed = false;
    const deadline = Date.now() + 10_000;
    // No request is in flight when the victim dies (it is killed between requests, and the next
    // ones start once the kernel has torn it down), so every request must find a live worker,
    // whether or not the master has noticed the death yet.
    for (let n = 0; Date.now() < deadline; n++) {
      if (n === 4) {
        process.kill(victim, 'SIGKILL');
        await waitForDeath(victim);
        killed = true;
        // Two connections at once right after the death: round-robin gives the victim its turn
        // for one of them unless the master has already struck it off.
        const burst = await Promise.allSettled([spdyGet(port, '/process.json?burst=1'), h2Get(port, '/process.json?burst=2')]);
        burst.forEach((result, i) => {
          requests++;
          if (result.status === 'rejected') failures.push(`burst request ${i + 1} right after the kill: ${(result.reason as Error).message}`);
          else servedAfterKill.add(processInfo(result.value).pid);
        });
      }
      requests++;
      try {
        const info = processInfo(await freshGet(port, n, `/process.json?n=${n}`));
        if (killed) servedAfterKill.add(info.pid);
      } catch (error) {
        failures.push(`request ${n} (${n % 2 === 0 ? 'spdy/3.1' : 'h2'}${killed ? ', after the kill' : ''}): ${(error as Error).message}`);
      }
      const replacement = [...servedAfterKill].find((pid) => !original.includes(pid));
      if (replacement !== undefined && n >= 30) break;
    }
    assert.deepEqual(failures, [], `${failures.length} of ${requests} requests failed`);
    assert.ok(!servedAfterKill.has(victim), 'the killed worker answered after its death');
    const replacements = [...servedAfterKill].filter((pid) => !original.includes(pid));
    assert.equal(replacements.length, 1, `pids served after the kill: ${[...servedAfterKill].join(', ')}`);
    assert.ok(servedAfterKill.has(survivor), 'the surviving worker stopped serving');
    await spry.waitForLine(new RegExp(`^spry: worker ${victim} died \\(SIGKILL\\); respawning`), 1_000);
  });

  test('hands connections accepted before the master noticed a worker\'s death to a live worker', async () => {
    // Deterministic form of the race above: the master is stopped while a worker dies and two
    // clients connect (the kernel queues them on the listening socket), then resumes and finds
    // the connections and the death at once. The master is busy or descheduled like this
    // whenever a worker crashes under load.
    const live = await waitForWorkers(spry, port, 2);
    const [victim] = live;
    process.kill(spry.pid, 'SIGSTOP');
    let answers: PromiseSettledResult<Answer>[];
    try {
      process.kill(victim, 'SIGKILL');
      await waitForDeath(victim);
      const settled = Promise.allSettled([spdyGet(port, '/process.json?stopped=1'), h2Get(port, '/process.json?stopped=2')]);
      await delay(100); // both connections reach the accept queue
      process.kill(spry.pid, 'SIGCONT');
      answers = await settled;
    } finally {
      process.kill(spry.pid, 'SIGCONT');
    }
    const failures = answers.flatMap((result, i) => (result.status === 'rejected' ? [`request ${i + 1}: ${(result.reason as Error).message}`] : []));
    assert.deepEqual(failures, []);
    for (const answer of answers) assert.notEqual(processInfo((answer as PromiseFulfilledResult<Answer>).value).pid, victim);
  });
});

/** Makes fresh requests until `count` distinct live worker pids answered; returns them. */
async function waitForWorkers(spry: RunningMaster, port: number, count: number): Promise<number[]> {
  const served = new Set<number>();
  await waitUntil(async () => {
    for (let n = 0; n < 2 * count; n++) served.add(processInfo(await freshGet(port, n)).pid);
    for (const pid of served) if (!isAlive(pid)) served.delete(pid);
    return served.size >= count;
  }, () => `${count} live workers to answer (saw ${[...served].join(', ')}); stderr:\n${spry.stderr()}`);
  return [...served];
}

describe('spry --master (one worker)', () => {
  let spry: RunningMaster;
  let port: number;

  before(async () => {
    spry = await startMaster(['--https2', 'addr=127.0.0.1:0,spdy=1', ...TEST_APP, '--master']);
    port = spry.listener('https').port;
  });

  after(async () => {
    await spry?.kill();
  });

  test('respawns a worker killed with SIGKILL, logs "respawning", and the new pid serves', async () => {
    const [first] = spry.listeners[0].workerPids;
    assert.equal(processInfo(await spdyGet(port, '/process.json')).pid, first);
    process.kill(first, 'SIGKILL');
    const line = await spry.waitForLine(/respawning/, 5_000);
    assert.match(line, new RegExp(`^spry: worker ${first} died \\(SIGKILL\\); respawning in \\d+ ms$`));
    let pid = first;
    await waitUntil(async () => {
      pid = processInfo(await h2Get(port, '/process.json')).pid;
      return pid !== first;
    }, 'a new worker to serve');
    assert.ok(isAlive(pid));
    assert.ok(!isAlive(first));
  });

  test('holds a connection that arrives while its only worker is dead until the respawned one takes it', async () => {
    const before = processInfo(await spdyGet(port, '/process.json')).pid;
    process.kill(before, 'SIGKILL');
    // Once the master has logged the death, no worker is alive until the respawn (100 ms or
    // more, then the app loads): these connections must wait for it.
    await spry.waitForLine(new RegExp(`^spry: worker ${before} died`), 5_000);
    const answers = await Promise.all([spdyGet(port, '/process.json?while-dead=1'), h2Get(port, '/process.json?while-dead=2')]);
    for (const answer of answers) assert.notEqual(processInfo(answer).pid, before);
  });

  test('holds a connection that reaches the master before its only worker\'s death does, until the respawn', async () => {
    // The master is stopped while its worker dies and a client connects; resumed, it may hand
    // the connection to the dead worker first: that send fails, and the worker must get no
    // more (retrying it at once, on every failure, kept the master from ever seeing the exit).
    const before = processInfo(await spdyGet(port, '/process.json')).pid;
    process.kill(spry.pid, 'SIGSTOP');
    let answer: Promise<Answer>;
    try {
      process.kill(before, 'SIGKILL');
      await waitForDeath(before);
      answer = h2Get(port, '/process.json?before-the-exit=1');
      await delay(100); // the connection reaches the accept queue
    } finally {
      process.kill(spry.pid, 'SIGCONT');
    }
    assert.notEqual(processInfo(await answer).pid, before);
  });
});
