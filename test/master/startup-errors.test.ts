// A master that cannot start says why in one stderr line and exits 2, leaving nothing behind:
// no worker (no process of the run alive), no bound port, no pidfile.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  closeServer,
  isPortFree,
  killAllRuns,
  listenOn,
  spawnSpry,
  taggedPids,
  TEST_APP,
  waitUntil,
} from './master-process.ts';
import { freePort } from '../helpers/free-port.ts';

const IS_ROOT = process.getuid?.() === 0;

after(killAllRuns);


/**
 * Runs spry to its exit and checks the common contract: status 2, exactly one stderr line
 * (`spry: ` + `message`), and no process of the run still alive.
 */
async function assertStartupError(args: readonly string[], message: string | RegExp, placeLines: readonly string[] = []): Promise<void> {
  const run = spawnSpry(args);
  const exit = await run.waitForExit(20_000);
  const lines = run.stderr().split('\n').filter(Boolean);
  assert.deepEqual(lines.slice(1), placeLines, `expected one stderr line${placeLines.length > 0 ? ' and where the app failed' : ''}, got:\n${run.stderr()}`);
  if (typeof message === 'string') assert.equal(lines[0], `spry: ${message}`);
  else assert.match(lines[0], message);
  assert.deepEqual(exit, { code: 2, signal: null });
  // Workers would be orphans now, not our children: look for any process carrying the run's tag.
  await waitUntil(() => taggedPids(run.tag).length === 0, () => `no process of the run to be left; found ${taggedPids(run.tag).join(', ')}`, 2_000);
}

describe('startup errors of a master', () => {
  test('an --https2 addr==2 with only one --shared-socket: one line, exit 2, the shared socket\'s port free again', async () => {
    const port = await freePort();
    await assertStartupError(
      ['--shared-socket', `127.0.0.1:${port}`, '--https2', 'addr==2,spdy=1', ...TEST_APP],
      '--https2: addr==2,spdy=1: =2 names no shared socket (there is 1: =0)',
    );
    assert.ok(await isPortFree(port), `port ${port} is still bound`);
  });

  test('an unknown --uid user: one line, exit 2, the port free again', async () => {
    const port = await freePort();
    await assertStartupError(['--https2', `addr=127.0.0.1:${port},spdy=1`, ...TEST_APP, '--uid', 'no-such-user'], '--uid: unknown user "no-such-user"');
    assert.ok(await isPortFree(port), `port ${port} is still bound`);
  });

  test('a port already in use, with -p 2: one line naming it, exit 2, no worker started', async () => {
    const occupier = await listenOn(0);
    const { port } = occupier.address() as AddressInfo;
    try {
      await assertStartupError(
        ['--https2', `addr=127.0.0.1:${port},spdy=1`, ...TEST_APP, '-p', '2'],
        `--https2: addr=127.0.0.1:${port},spdy=1: cannot listen on 127.0.0.1:${port} (EADDRINUSE)`,
      );
    } finally {
      await closeServer(occupier);
    }
  });

  test('a --shared-socket port already in use, with -p 2: one line naming it, exit 2, no worker started', async () => {
    const occupier = await listenOn(0);
    const { port } = occupier.address() as AddressInfo;
    try {
      await assertStartupError(
        ['--shared-socket', `127.0.0.1:${port}`, '--https2', 'addr==0,spdy=1', ...TEST_APP, '-p', '2'],
        `--shared-socket: 127.0.0.1:${port}: cannot listen on 127.0.0.1:${port} (EADDRINUSE)`,
      );
    } finally {
      await closeServer(occupier);
    }
  });

  test('--refuse-root without --uid, run as root: one line, exit 2, the port free again', { skip: IS_ROOT ? false : 'needs root' }, async () => {
    const port = await freePort();
    await assertStartupError(['--https2', `addr=127.0.0.1:${port},spdy=1`, ...TEST_APP, '--refuse-root'], '--refuse-root: spry would run the app as root; give --uid USER');
    assert.ok(await isPortFree(port), `port ${port} is still bound`);
  });

  describe('with a scratch directory', () => {
    let dir: string;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'spry-startup-'));
    });

    after(async () => {
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    test('an app that throws while loading, with -p 2: one line, exit 2, no worker left, the port free again (four tries)', async () => {
      // The first worker to fail makes the master kill the other and stop: how the two deaths
      // interleave varies from run to run, so the contract is checked on a few runs.
      const module = join(dir, 'broken-app.ts');
      await writeFile(module, "throw new Error('broken on purpose');\nexport default () => {};\n");
      for (let run = 1; run <= 4; run++) {
        const port = await freePort();
        await assertStartupError(['--https2', `addr=127.0.0.1:${port},spdy=1`, '--module', module, '-p', '2'], `--module ${module}: cannot load ${module} (broken on purpose)`, [`    at ${module}:1:7`]);
        assert.ok(await isPortFree(port), `port ${port} is still bound`);
      }
    });

    test('--refuse-root with --pidfile, run as root: exit 2 leaves no pidfile behind', { skip: IS_ROOT ? false : 'needs root' }, async () => {
      const pidfile = join(dir, 'refused.pid');
      const port = await freePort();
      await assertStartupError(['--https2', `addr=127.0.0.1:${port},spdy=1`, ...TEST_APP, '--refuse-root', '--pidfile', pidfile], '--refuse-root: spry would run the app as root; give --uid USER');
      assert.ok(!existsSync(pidfile), `${pidfile} names a master that never started`);
    });

    test('a port in use with --pidfile: exit 2 without writing the pidfile', async () => {
      const occupier = await listenOn(0);
      const { port } = occupier.address() as AddressInfo;
      const pidfile = join(dir, 'in-use.pid');
      try {
        await assertStartupError(['--https2', `addr=127.0.0.1:${port},spdy=1`, ...TEST_APP, '--pidfile', pidfile], /EADDRINUSE/);
      } finally {
        await closeServer(occupier);
      }
      assert.ok(!existsSync(pidfile), `${pidfile} names a master that never started`);
    });

    test('an app that throws while loading, with --pidfile: exit 2 leaves no pidfile behind', async () => {
      const module = join(dir, 'broken-too.ts');
      await writeFile(module, "throw new Error('broken on purpose');\nexport default () => {};\n");
      const pidfile = join(dir, 'broken.pid');
      await assertStartupError(['--https2', 'addr=127.0.0.1:0,spdy=1', '--module', module, '--master', '--pidfile', pidfile], `--module ${module}: cannot load ${module} (broken on purpose)`, [`    at ${module}:1:7`]);
      assert.ok(!existsSync(pidfile), `${pidfile} names a master that never started`);
    });
  });
});
