// Certificate reload on a real spry: SIGHUP (a single process, or a master's graceful reload) and
// --touch-certs (no worker reload) read every certificate again. New handshakes get the new
// certificates, connections opened before keep theirs and finish, and a replacement that does
// not load keeps the old certificate with one line saying so.

import assert from 'node:assert/strict';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { SpdyClient } from '../../src/spdy/client.ts';
import { killAllRuns, startMaster, taggedWorkerPids, TEST_APP, waitUntil, type RunningMaster, type SpryRun } from '../master/master-process.ts';
import { OPENSSL } from '../tools/tools.ts';
import { countLines, handshake, makeCertificate, startSingle, tempDir } from './certificates.ts';

after(killAllRuns);

/** A spdy/3.1 stream left in flight (GET /slow) on a connection made now, and that connection's certificate. */
async function streamInFlight(port: number): Promise<{ cn: string; response: Promise<{ status: number; body: string }>; close(): void }> {
  const client = await SpdyClient.connect({ host: '127.0.0.1', port, protocol: 'spdy/3.1' });
  const socket = (client.session as unknown as { socket: TLSSocket }).socket;
  const response = client.request('/slow?ms=1500').then((answer) => ({ status: answer.status, body: answer.body.toString() }));
  return { cn: socket.getPeerCertificate().subject.CN as string, response, close: () => client.session.destroy() };
}

/** Waits until `pattern` has matched `count` stderr lines in all. */
function waitForLines(spry: SpryRun, pattern: RegExp, count: number): Promise<void> {
  return waitUntil(() => countLines(spry, pattern) >= count, () => `${count} line(s) matching ${pattern}; stderr:\n${spry.stderr()}`);
}

/** default-1 for --https2, named-1 for --sni named.test, and a --touch-certs file, in a new directory. */
function certificateFiles(prefix: string): { dir: string; touch: string; args: string[] } {
  const dir = tempDir(prefix);
  const touch = join(dir, 'touch');
  writeFileSync(touch, '');
  const fallback = makeCertificate(join(dir, 'default'), 'default-1');
  const named = makeCertificate(join(dir, 'named'), 'named-1');
  const args = [
    '--https2', `addr=127.0.0.1:0,cert=${fallback.cert},key=${fallback.key},spdy=1`,
    '--sni', `named.test,${named.cert},${named.key}`,
    '--touch-certs', touch,
    ...TEST_APP,
  ];
  return { dir, touch, args };
}

const RELOADED = /^spry: certificate reload: every certificate read again$/;

describe('a single process, on SIGHUP and --touch-certs', { skip: OPENSSL.skip }, () => {
  let spry: SpryRun;
  let port: number;
  let dir: string;
  let touch: string;

  before(async () => {
    let args: string[];
    ({ dir, touch, args } = certificateFiles('spry-reload-'));
    ({ spry, port } = await startSingle(args));
  });

  after(async () => {
    await spry?.kill();
  });

  test('after the files are replaced and SIGHUP, new handshakes get the new certificates while a spdy/3.1 stream opened before completes', async () => {
    const before = await streamInFlight(port);
    try {
      assert.equal(before.cn, 'default-1');
      makeCertificate(join(dir, 'default'), 'default-2');
      makeCertificate(join(dir, 'named'), 'named-2');
      spry.child.kill('SIGHUP');
      await waitForLines(spry, RELOADED, 1);
      assert.equal((await handshake(port)).cn, 'default-2');
      assert.equal((await handshake(port, 'named.test')).cn, 'named-2');
      assert.deepEqual(await before.response, { status: 200, body: 'slow done\n' });
    } finally {
      before.close();
    }
  });

  test('a replacement that does not load keeps the old certificate and logs one line', async () => {
    writeFileSync(join(dir, 'named.crt'), '-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n');
    spry.child.kill('SIGHUP');
    await waitForLines(spry, /keeping the certificate loaded before$/, 1);
    assert.equal((await handshake(port, 'named.test')).cn, 'named-2');
    assert.equal((await handshake(port)).cn, 'default-2');
    const problems = spry.stderr().split('\n').filter((line) => line.includes('keeping the certificate loaded before'));
    assert.equal(problems.length, 1, spry.stderr());
    assert.match(problems[0], /^spry: certificate reload: --sni named\.test,.*: .*named\.crt and .*named\.key do not load \(/);
  });

  test('touching the --touch-certs file reads them again', async () => {
    makeCertificate(join(dir, 'named'), 'named-3');
    utimesSync(touch, new Date(), new Date(Date.now() + 10_000));
    await waitForLines(spry, RELOADED, 2);
    assert.equal((await handshake(port, 'named.test')).cn, 'named-3');
  });
});

describe('a master with -p 2, on SIGHUP and --touch-certs', { skip: OPENSSL.skip }, () => {
  let spry: RunningMaster;
  let port: number;
  let dir: string;
  let touch: string;

  before(async () => {
    let args: string[];
    ({ dir, touch, args } = certificateFiles('spry-reload-master-'));
    spry = await startMaster([...args, '-p', '2']);
    port = spry.listener('https').port;
  });

  after(async () => {
    await spry?.kill();
  });

  test('SIGHUP: the new workers serve the new certificates, and a spdy/3.1 stream opened before completes', async () => {
    const before = await streamInFlight(port);
    try {
      assert.equal(before.cn, 'default-1');
      makeCertificate(join(dir, 'default'), 'default-2');
      makeCertificate(join(dir, 'named'), 'named-2');
      spry.child.kill('SIGHUP');
      await spry.waitForLine(/^spry: reload: new workers ready/);
      for (let n = 0; n < 4; n++) {
        assert.equal((await handshake(port)).cn, 'default-2');
        assert.equal((await handshake(port, 'named.test')).cn, 'named-2');
      }
      assert.deepEqual(await before.response, { status: 200, body: 'slow done\n' });
    } finally {
      before.close();
    }
  });

  test('--touch-certs: every running worker serves the new certificates, and no worker is replaced', async () => {
    await waitUntil(() => taggedWorkerPids(spry.tag).length === 2, 'the old generation to exit');
    const workers = taggedWorkerPids(spry.tag).sort();
    makeCertificate(join(dir, 'named'), 'named-3');
    utimesSync(touch, new Date(), new Date(Date.now() + 10_000));
    await spry.waitForLine(/^spry: certificate reload: sent to 2 worker\(s\)$/);
    for (let n = 0; n < 4; n++) assert.equal((await handshake(port, 'named.test')).cn, 'named-3');
    assert.deepEqual(taggedWorkerPids(spry.tag).sort(), workers);
    assert.equal(countLines(spry, /^spry: reloading/), 1, 'only the SIGHUP reloaded workers');
  });
});
