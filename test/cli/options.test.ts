import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULTS } from '../../src/config/config.ts';
import { parseCommandLine } from '../../src/cli/options.ts';
import { ConfigError } from '../../src/errors.ts';
import { makeCertificateFiles, type CertificateFiles } from './fixtures.ts';

let files: CertificateFiles;
before(async () => {
  files = await makeCertificateFiles();
});
after(() => files.remove());

const MODULE = ['--module', './app.ts:handler'];

async function rejectsWith(argv: string[], message: string | RegExp): Promise<void> {
  await assert.rejects(parseCommandLine(argv), (error) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

describe('parseCommandLine', () => {
  it('reads a full --https2 with cert files, tuning and the module', async () => {
    const config = await parseCommandLine([
      '--https2', `addr=127.0.0.1:8443,crt=${files.certPath},key=${files.keyPath},spdy=1,h2=0,spdy-max-streams=50,spdy-window=65536`,
      '--module=./examples/testapp.ts:testApp',
      '--http-timeout', '30',
    ]);
    assert.equal(config.https2.length, 1);
    const [listener] = config.https2;
    assert.deepEqual(listener.addr, { kind: 'tcp', host: '127.0.0.1', port: 8443 });
    assert.equal(listener.cert, files.pems[0].cert);
    assert.equal(listener.key, files.pems[0].key);
    assert.equal(listener.selfSigned, false);
    assert.equal(listener.spdy, true);
    assert.equal(listener.h2, false);
    assert.deepEqual(listener.tuning, { ...DEFAULTS.tuning, maxConcurrentStreams: 50, initialWindowBytes: 65536 });
    assert.deepEqual(config.module, { path: './examples/testapp.ts', exportName: 'testApp', source: './examples/testapp.ts:testApp' });
    assert.equal(config.httpTimeoutMs, 30_000);
  });

  it('defaults spdy off, h2 on, the tuning and the timeout', async () => {
    const config = await parseCommandLine(['--https2', `addr=:1,cert=${files.certPath},key=${files.keyPath}`, ...MODULE]);
    const [listener] = config.https2;
    assert.equal(listener.spdy, false);
    assert.equal(listener.h2, true);
    assert.deepEqual(listener.tuning, DEFAULTS.tuning);
    assert.equal(config.httpTimeoutMs, DEFAULTS.httpTimeoutMs);
  });

  it('keeps repeated --https2 listeners in order and shares one generated certificate', async () => {
    const config = await parseCommandLine(['--shared-socket', ':80', '--shared-socket', ':443', '--https2', 'addr=:8443', '--https2', 'addr==1,spdy=1', ...MODULE]);
    assert.deepEqual(config.https2.map((l) => l.addr), [
      { kind: 'tcp', host: '0.0.0.0', port: 8443 },
      { kind: 'shared', index: 1 },
    ]);
    assert.ok(config.https2.every((l) => l.selfSigned));
    assert.equal(config.https2[0].cert, config.https2[1].cert);
    assert.match(config.https2[0].cert, /-----BEGIN CERTIFICATE-----/);
  });

  it('reads clientca= and ciphers=', async () => {
    const config = await parseCommandLine([
      '--https2', `addr=:1,client_ca=${files.certPath},ciphers=ECDHE-ECDSA-AES128-GCM-SHA256`, ...MODULE,
    ]);
    assert.equal(config.https2[0].clientCa, files.pems[0].cert);
    assert.equal(config.https2[0].ciphers, 'ECDHE-ECDSA-AES128-GCM-SHA256');
  });

  it('rejects an unknown --https2 key, naming it', async () => {
    await rejectsWith(['--https2', 'addr=:1,pushy=1', ...MODULE], /^--https2: unknown key "pushy" \(known: addr, cert,/);
  });

  it('rejects a key given twice, even through its alias', async () => {
    await rejectsWith(['--https2', 'addr=:1,cert=a,crt=b,key=c', ...MODULE], '--https2: cert= and crt= both given');
  });

  it('rejects a --https2 without addr=', async () => {
    await rejectsWith(['--https2', 'spdy=1', ...MODULE], '--https2: "spdy=1" has no addr= (e.g. addr=:8443)');
  });

  it('rejects cert= without key= and key= without cert=', async () => {
    await rejectsWith(['--https2', `addr=:1,crt=${files.certPath}`, ...MODULE], '--https2: crt= given without key=');
    await rejectsWith(['--https2', `addr=:1,key=${files.keyPath}`, ...MODULE], '--https2: key= given without cert=');
  });

  it('rejects an unreadable cert or key file with the errno code', async () => {
    await rejectsWith(['--https2', `addr=:1,cert=/nonexistent/x.crt,key=${files.keyPath}`, ...MODULE],
      '--https2: cert=/nonexistent/x.crt: cannot read (ENOENT)');
    await rejectsWith(['--https2', `addr=:1,cert=${files.certPath},key=${files.dir}`, ...MODULE],
      `--https2: key=${files.dir}: cannot read (EISDIR)`);
  });

  it('rejects a file that is not PEM', async () => {
    await rejectsWith(['--https2', `addr=:1,cert=${files.notPemPath},key=${files.keyPath}`, ...MODULE],
      `--https2: cert=${files.notPemPath}: not a PEM file (no -----BEGIN line)`);
  });

  it('rejects a certificate with somebody else\'s key', async () => {
    await rejectsWith(['--https2', `addr=:1,cert=${files.certPath},key=${files.otherKeyPath}`, ...MODULE],
      new RegExp(`^--https2: cert=${files.certPath} and key=${files.otherKeyPath} do not load as a certificate and its key \\(.*\\)$`));
  });

  it('rejects a cipher list OpenSSL matches nothing in', async () => {
    await rejectsWith(['--https2', 'addr=:1,ciphers=NOT-A-CIPHER', ...MODULE], /^--https2: ciphers=NOT-A-CIPHER: not accepted by OpenSSL \(/);
  });

  it('rejects spdy= and h2= other than 0 or 1', async () => {
    await rejectsWith(['--https2', 'addr=:1,spdy=yes', ...MODULE], '--https2: spdy=yes: must be 0 or 1');
    await rejectsWith(['--https2', 'addr=:1,h2=2', ...MODULE], '--https2: h2=2: must be 0 or 1');
  });

  it('rejects tuning values out of range or not whole numbers', async () => {
    await rejectsWith(['--https2', 'addr=:1,spdy-max-streams=0', ...MODULE],
      '--https2: spdy-max-streams=0: must be a whole number of streams from 1 to 100000');
    await rejectsWith(['--https2', 'addr=:1,spdy-max-frame=4096', ...MODULE],
      '--https2: spdy-max-frame=4096: must be a whole number of bytes from 8192 to 16777215');
    await rejectsWith(['--https2', 'addr=:1,spdy-session-window=1.5', ...MODULE], /^--https2: spdy-session-window=1\.5: must be a whole number of bytes/);
    await rejectsWith(['--https2', 'addr=:1,spdy-max-headers=64k', ...MODULE], /^--https2: spdy-max-headers=64k: must be a whole number/);
  });

  it('rejects a bad --http-timeout', async () => {
    for (const value of ['0', '-5', 'abc', '1.5', '99999999']) {
      await rejectsWith(['--https2', 'addr=:1', ...MODULE, '--http-timeout', value],
        `--http-timeout: "${value}": must be a whole number of seconds from 1 to 2147483`);
    }
  });

  it('requires a listener and a --module', async () => {
    await rejectsWith(MODULE, '--https2: at least one --https2 or --http listener is required (e.g. --https2 addr=:8443)');
    await rejectsWith(['--https2', 'addr=:1'], '--module: required: the app to run (e.g. --module ./app.ts:handler), or --http-to backends');
    await rejectsWith(['--https2', 'addr=:1', ...MODULE, '--http-to', '127.0.0.1:3031'], '--http-to: forwards every request, so it cannot go with --module: choose one');
  });

  it('rejects a non-repeatable option given twice', async () => {
    await rejectsWith(['--https2', 'addr=:1', ...MODULE, ...MODULE], '--module: given more than once');
  });

  it('reports the first bad option in command-line order', async () => {
    await rejectsWith(['--http-timeout', 'x', '--https2', 'addr=:x'], /^--http-timeout:/);
  });

  it('reads -p N and --processes auto as the number of workers', async () => {
    assert.equal((await parseCommandLine(['-p', '4', '--https2', 'addr=:1', ...MODULE])).processes.workers, 4);
    assert.ok((await parseCommandLine(['--processes', 'auto', '--https2', 'addr=:1', ...MODULE])).processes.workers >= 1);
    await rejectsWith(['-p', '0', '--https2', 'addr=:1', ...MODULE], /^-p: "0": must be a whole number of workers from 1 to 1024$/);
  });

  it('reads the master options: shared sockets, uid/gid, mercies, pidfile, touch-reload', async () => {
    const config = await parseCommandLine([
      '--shared-socket', ':443', '--https2', 'addr==0', ...MODULE, '--uid', 'nobody', '--gid', 'nogroup', '--master',
      '--worker-reload-mercy', '5', '--reload-mercy', '7', '--pidfile', '/run/spry.pid', '--touch-reload', '/tmp/a', '--touch-reload', '/tmp/b',
    ]);
    assert.deepEqual(config.processes, {
      sharedSockets: [{ source: ':443', addr: { kind: 'tcp', host: '0.0.0.0', port: 443 } }],
      uid: 'nobody',
      gid: 'nogroup',
      refuseRoot: false,
      workers: 1,
      master: true,
      workerReloadMercyMs: 5000,
      reloadMercyMs: 7000,
      pidfile: '/run/spry.pid',
      touchReload: ['/tmp/a', '/tmp/b'],
    });
  });
});
