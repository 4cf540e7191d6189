// Stopping a master: SIGTERM stops accepting, lets every worker finish what is in flight (an
// upload included), then the master exits 0 with no worker left; --pidfile lives exactly as long.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { collectResponse, writeBody } from '../../src/spdy/client.ts';
import { connectSpdy, processInfo, spdyGet } from './clients.ts';
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
import { treeForDroppedUser } from './readable-tree.ts';

after(killAllRuns);

const MiB = 1 << 20;
const UPLOAD_BYTES = 30 * MiB;
const CHUNK_BYTES = 256 * 1024;

/** Whether a TCP connection to the port is accepted (false: refused). */
function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** 30 MiB of deterministic bytes, in 256 KiB chunks. */
function uploadChunks(): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < UPLOAD_BYTES; offset += CHUNK_BYTES) {
    const chunk = Buffer.alloc(CHUNK_BYTES);
    for (let i = 0; i < CHUNK_BYTES; i += 4) chunk.writeUInt32LE((offset + i) >>> 0, i);
    chunks.push(chunk);
  }
  return chunks;
}

describe('SIGTERM to a master with -p 2 during a slow spdy/3.1 upload', () => {
  let spry: RunningMaster;
  let port: number;

  before(async () => {
    spry = await startMaster(['--https2', 'addr=127.0.0.1:0,spdy=1', ...TEST_APP, '-p', '2']);
    port = spry.listener('https').port;
  });

  after(async () => {
    await spry?.kill();
  });

  test('finishes the upload with a 200 and the right sha256, then exits 0 leaving no worker', async () => {
    const workers = spry.listeners[0].workerPids;
    const chunks = uploadChunks();
    const expected = createHash('sha256');
    for (const chunk of chunks) expected.update(chunk);

    const client = await connectSpdy(port);
    let sent = 0;
    let signalled = false;
    try {
      const stream = client.open('/upload?format=json', { method: 'POST', headers: ['content-type', 'application/octet-stream'], endStream: false });
      const response = collectResponse(stream, client.session);
      // Slowly: the signal lands with most of the body still to come.
      const body = (async function* () {
        for (const chunk of chunks) {
          yield chunk;
          sent += chunk.length;
          await delay(5);
          if (!signalled && sent >= 4 * MiB) {
            signalled = true;
            spry.child.kill('SIGTERM');
          }
        }
      })();
      void writeBody(stream, body).catch(() => stream.abort());
      let answered = false;
      void response.finally(() => (answered = true)).catch(() => {});
      // Meanwhile the master stops accepting: a new connection is refused while the upload runs.
      const refusedDuringUpload = (async () => {
        await waitUntil(() => signalled, 'SIGTERM', 20_000);
        await waitUntil(async () => !(await canConnect(port)), 'the listening socket to close', 10_000);
        return !answered;
      })();
      const answer = await withTimeout(response, 30_000, 'the upload', () => client.session.destroy());
      assert.ok(signalled, 'SIGTERM was never sent');
      assert.equal(await refusedDuringUpload, true, 'new connections were still accepted while the upload drained');
      assert.equal(answer.status, 200, answer.body.toString());
      assert.deepEqual(JSON.parse(answer.body.toString()), { bytes: UPLOAD_BYTES, sha256: expected.digest('hex') });
    } finally {
      client.session.destroy();
    }
    const exit = await spry.waitForExit(15_000);
    assert.deepEqual(exit, { code: 0, signal: null }, spry.stderr());
    for (const pid of workers) assert.ok(!isAlive(pid), `worker ${pid} outlived its master`);
  });
});

describe('--pidfile FILE', () => {
  let spry: RunningMaster;
  let dir: string;
  let pidfile: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spry-pidfile-'));
    pidfile = join(dir, 'spry.pid');
    spry = await startMaster(['--https2', 'addr=127.0.0.1:0,spdy=1', ...TEST_APP, '--pidfile', pidfile]);
  });

  after(async () => {
    await spry?.kill();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('holds the master\'s pid while it runs', async () => {
    assert.equal(await readFile(pidfile, 'utf8'), `${spry.pid}\n`);
    // The master, not a worker: the worker that answers has another pid.
    assert.notEqual(processInfo(await spdyGet(spry.listener('https').port, '/process.json')).pid, spry.pid);
  });

  test('is removed when SIGTERM stops the master (exit 0)', async () => {
    const exit = await spry.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, spry.stderr());
    await waitUntil(() => !existsSync(pidfile), `${pidfile} to be removed`, 2_000);
  });
});

describe('--pidfile FILE with --uid nobody, in a directory only root may write (as /run)', { skip: process.getuid?.() === 0 ? false : 'needs root' }, () => {
  let spry: RunningMaster;
  let dir: string;
  let pidfile: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spry-run-'));
    await chmod(dir, 0o755);
    pidfile = join(dir, 'spry.pid');
    spry = await startMaster(['--https2', 'addr=127.0.0.1:0,spdy=1', ...TEST_APP, '--uid', 'nobody', '--pidfile', pidfile], treeForDroppedUser());
  });

  after(async () => {
    await spry?.kill();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('holds the master\'s pid, written as root before the privilege drop', async () => {
    assert.equal(await readFile(pidfile, 'utf8'), `${spry.pid}\n`);
  });

  test('no longer names the master once SIGTERM stopped it (exit 0)', async () => {
    const exit = await spry.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, spry.stderr());
    const left = existsSync(pidfile) ? await readFile(pidfile, 'utf8') : '';
    assert.equal(left, '', `${pidfile} still names the master ${spry.pid}, which has exited`);
  });
});
