// The master binds shared sockets on privileged ports as root, then drops to --uid before any
// app code runs; workers (and the master itself) serve as that user from then on. uWSGI's two
// documented SPDY router commands, with ports from 600–999 standing in for 443 and 80.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { h2Get, httpGet, processInfo, retryingRefusals, spdyGet } from './clients.ts';
import {
  isAlive,
  killAllRuns,
  startOnPrivilegedPorts,
  TEST_APP,
  uidsOf,
  waitUntil,
  type RunningMaster,
} from './master-process.ts';
import { treeForDroppedUser } from './readable-tree.ts';

const IS_ROOT = process.getuid?.() === 0;
const NEEDS_ROOT = IS_ROOT ? false : 'binding a port below 1024 and --uid need root';

/** nobody's uid and primary gid, from /etc/passwd. */
function nobody(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((entry) => entry.startsWith('nobody:'));
  assert.ok(line !== undefined, 'no user nobody in /etc/passwd');
  const fields = line.split(':');
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

after(killAllRuns);

describe('--shared-socket 127.0.0.1:P --https2 addr==0,spdy=1 --uid nobody, P below 1024', { skip: NEEDS_ROOT }, () => {
  let spry: RunningMaster;
  let port: number;

  before(async () => {
    ({ spry, ports: [port] } = await startOnPrivilegedPorts(1, ([p]) => ['--shared-socket', `127.0.0.1:${p}`, '--https2', 'addr==0,spdy=1', ...TEST_APP, '--uid', 'nobody'], treeForDroppedUser()));
  });

  after(async () => {
    await spry?.kill();
  });

  test('announces the privileged port with every protocol and one worker', () => {
    assert.equal(spry.listeners.length, 1);
    const [listener] = spry.listeners;
    assert.equal(listener.scheme, 'https');
    assert.equal(listener.port, port);
    assert.deepEqual(listener.protocols, ['h2', 'spdy/3.1', 'spdy/3', 'spdy/2', 'http/1.1']);
    assert.equal(listener.workerPids.length, 1);
  });

  test('serves the app as nobody over spdy/3.1: uid and euid are nobody\'s, and group 0 is gone', async () => {
    const info = processInfo(await spdyGet(port, '/process.json'));
    const { uid, gid } = nobody();
    assert.equal(info.pid, spry.listeners[0].workerPids[0]);
    assert.equal(info.uid, uid);
    assert.equal(info.euid, uid);
    assert.equal(info.gid, gid);
    assert.equal(info.egid, gid);
    assert.ok(!info.groups.includes(0), `supplementary groups ${JSON.stringify(info.groups)} still include root's`);
  });

  test('serves the app as nobody over h2 as well', async () => {
    const info = processInfo(await h2Get(port, '/process.json'));
    assert.equal(info.uid, nobody().uid);
    assert.equal(info.euid, nobody().uid);
    assert.ok(!info.groups.includes(0), `supplementary groups ${JSON.stringify(info.groups)} still include root's`);
  });

  test('runs the master itself as nobody once the port is bound (/proc/PID/status Uid and Gid)', () => {
    assert.deepEqual(uidsOf(spry.pid), [nobody().uid, nobody().uid, nobody().uid, nobody().uid]);
    const status = readFileSync(`/proc/${spry.pid}/status`, 'utf8');
    const gids = /^Gid:\s+(.*)$/m.exec(status)![1].trim().split(/\s+/).map(Number);
    assert.deepEqual(gids, [nobody().gid, nobody().gid, nobody().gid, nobody().gid]);
    const groups = /^Groups:\s*(.*)$/m.exec(status)![1].trim().split(/\s+/).filter(Boolean).map(Number);
    assert.ok(!groups.includes(0), `the master's groups ${JSON.stringify(groups)} still include root's`);
  });

  test('still serves the privileged port after a SIGHUP, from a worker the unprivileged master forked', async () => {
    const [oldPid] = spry.listeners[0].workerPids;
    spry.child.kill('SIGHUP');
    await spry.waitForLine(/^spry: reload: new workers ready/);
    let info = processInfo(await retryingRefusals(() => spdyGet(port, '/process.json')));
    await waitUntil(async () => {
      // Across the reload the draining worker may refuse a request unprocessed: a client retries.
      info = processInfo(await retryingRefusals(() => spdyGet(port, '/process.json')));
      return info.pid !== oldPid;
    }, 'a new worker pid on the privileged port');
    assert.equal(info.euid, nobody().uid);
    await waitUntil(() => !isAlive(oldPid), `the old worker ${oldPid} to exit`);
  });

  test('exits 0 on SIGTERM, leaving no worker behind', async () => {
    const workers = [spry.listeners[0].workerPids[0]];
    const exit = await spry.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, spry.stderr());
    for (const pid of workers) assert.ok(!isAlive(pid), `worker ${pid} is still alive`);
  });
});

describe('uWSGI\'s second command: --shared-socket :P1 --shared-socket :P2 --http =0 --https2 addr==1,spdy=1 --uid nobody', { skip: NEEDS_ROOT }, () => {
  let spry: RunningMaster;
  let httpPort: number;
  let httpsPort: number;

  before(async () => {
    ({ spry, ports: [httpPort, httpsPort] } = await startOnPrivilegedPorts(2, ([p1, p2]) => [
      '--shared-socket', `127.0.0.1:${p1}`,
      '--shared-socket', `127.0.0.1:${p2}`,
      '--http', '=0',
      '--https2', 'addr==1,spdy=1',
      ...TEST_APP,
      '--uid', 'nobody',
    ], treeForDroppedUser()));
  });

  after(async () => {
    await spry?.kill();
  });

  test('announces TLS on the second shared socket and plain HTTP on the first', () => {
    assert.deepEqual(
      spry.listeners.map(({ scheme, port, protocols }) => ({ scheme, port, protocols })),
      [
        { scheme: 'https', port: httpsPort, protocols: ['h2', 'spdy/3.1', 'spdy/3', 'spdy/2', 'http/1.1'] },
        { scheme: 'http', port: httpPort, protocols: ['http/1.1', 'h2c'] },
      ],
    );
  });

  test('serves /environ.json over plain HTTP on the first port', async () => {
    const answer = await httpGet(httpPort, '/environ.json');
    assert.equal(answer.status, 200);
    const env = JSON.parse(answer.body.toString()) as Record<string, string>;
    assert.equal(env.SERVER_PORT, String(httpPort));
    assert.equal(env.SERVER_PROTOCOL, 'HTTP/1.1');
    assert.equal(env.HTTPS, undefined); // as uWSGI: set only when on
    assert.equal(env.SPDY, undefined);
  });

  test('serves /environ.json over spdy/3.1 on the second port, with the SPDY variables', async () => {
    const answer = await spdyGet(httpsPort, '/environ.json');
    assert.equal(answer.status, 200);
    const env = JSON.parse(answer.body.toString()) as Record<string, string>;
    assert.equal(env.SERVER_PORT, String(httpsPort));
    assert.equal(env.HTTPS, 'on');
    assert.equal(env.SPDY, 'on');
    assert.equal(env['SPDY.version'], '3.1');
  });

  test('serves /environ.json over h2 on the second port', async () => {
    const answer = await h2Get(httpsPort, '/environ.json');
    assert.equal(answer.status, 200);
    const env = JSON.parse(answer.body.toString()) as Record<string, string>;
    assert.equal(env.HTTPS, 'on');
    assert.equal(env.SERVER_PORT, String(httpsPort));
  });

  test('serves both ports as nobody', async () => {
    assert.equal(processInfo(await httpGet(httpPort, '/process.json')).euid, nobody().uid);
    assert.equal(processInfo(await spdyGet(httpsPort, '/process.json')).euid, nobody().uid);
  });
});
