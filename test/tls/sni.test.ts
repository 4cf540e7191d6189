// --sni, --sni-regexp and --sni-dir on a real spry: each client gets the certificate for the
// name it sends, the --https2 one for anything else, and the same ALPN protocols whatever the name.

import assert from 'node:assert/strict';
import { connect as http2Connect } from 'node:http2';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SpdyClient } from '../../src/spdy/client.ts';
import { assertConfigError } from '../cli/run-spry.ts';
import { killAllRuns, TEST_APP, type SpryRun } from '../master/master-process.ts';
import { OPENSSL } from '../tools/tools.ts';
import { handshake, makeCertificate, opensslSubject, startSingle, tempDir } from './certificates.ts';

after(killAllRuns);

describe('a --https2 listener with --sni, --sni-regexp and --sni-dir', { skip: OPENSSL.skip }, () => {
  let spry: SpryRun;
  let port: number;
  let dir: string;

  before(async () => {
    dir = tempDir('spry-sni-');
    const sniDir = join(dir, 'by-name');
    mkdirSync(sniDir);
    const fallback = makeCertificate(join(dir, 'default'), 'default.test');
    const exact = makeCertificate(join(dir, 'exact'), 'exact.test');
    const wild = makeCertificate(join(dir, 'wild'), 'wild');
    const pattern = makeCertificate(join(dir, 'pattern'), 'pattern');
    makeCertificate(join(sniDir, 'dir.test'), 'dir.test');
    writeFileSync(join(sniDir, 'broken.test.crt'), '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n');
    writeFileSync(join(sniDir, 'broken.test.key'), '-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n');
    ({ spry, port } = await startSingle([
      '--https2', `addr=127.0.0.1:0,cert=${fallback.cert},key=${fallback.key},spdy=1`,
      '--sni', `exact.test,${exact.cert},${exact.key}`,
      '--sni', `*.wild.test,${wild.cert},${wild.key}`,
      '--sni-regexp', `^re[0-9]+\\.test$,${pattern.cert},${pattern.key}`,
      '--sni-dir', sniDir,
      ...TEST_APP,
    ]));
  });

  after(async () => {
    await spry?.kill();
  });

  test('openssl s_client -servername exact.test sees the --sni certificate', () => {
    assert.equal(opensslSubject(port, 'exact.test'), 'exact.test');
  });

  test('a name is matched whatever its case', async () => {
    assert.equal((await handshake(port, 'EXACT.Test')).cn, 'exact.test');
  });

  test('*.wild.test covers one label before wild.test, and only one', async () => {
    assert.equal((await handshake(port, 'a.wild.test')).cn, 'wild');
    assert.equal((await handshake(port, 'a.b.wild.test')).cn, 'default.test');
    assert.equal((await handshake(port, 'wild.test')).cn, 'default.test');
  });

  test('--sni-regexp serves names its pattern matches', async () => {
    assert.equal((await handshake(port, 're42.test')).cn, 'pattern');
    assert.equal((await handshake(port, 're.test')).cn, 'default.test');
  });

  test('--sni-dir serves DIR/NAME.crt on the name\'s very first handshake', () => {
    assert.equal(opensslSubject(port, 'dir.test'), 'dir.test');
  });

  test('a name nothing matches, and a client sending no name, get the --https2 certificate', async () => {
    assert.equal((await handshake(port, 'other.test')).cn, 'default.test');
    assert.equal((await handshake(port)).cn, 'default.test');
  });

  test('names that are not host names get the --https2 certificate (no file is looked up for them)', async () => {
    assert.equal((await handshake(port, 'a..test')).cn, 'default.test');
  });

  test('--sni-dir files that do not load give the default certificate, logged once', async () => {
    assert.equal((await handshake(port, 'broken.test')).cn, 'default.test');
    assert.equal((await handshake(port, 'broken.test')).cn, 'default.test');
    const lines = spry.stderr().split('\n').filter((line) => line.includes('broken.test'));
    assert.equal(lines.length, 1, spry.stderr());
    assert.match(lines[0], /^spry: --sni-dir: .*broken\.test\.crt and .*broken\.test\.key do not load/);
  });

  test('every name offers the listener\'s ALPN protocols: h2 and spdy/3.1', async () => {
    for (const name of ['exact.test', 'a.wild.test', 're1.test', 'dir.test', 'other.test']) {
      assert.equal((await handshake(port, name, ['h2'])).alpn, 'h2', name);
      assert.equal((await handshake(port, name, ['spdy/3.1'])).alpn, 'spdy/3.1', name);
    }
  });

  test('a spdy/3.1 request and an h2 request are served over a connection to an --sni name', async () => {
    const client = await SpdyClient.connect({ host: '127.0.0.1', port, protocol: 'spdy/3.1', tls: { servername: 'exact.test' } });
    try {
      assert.equal((await client.request('/status/204')).status, 204);
    } finally {
      client.session.destroy();
    }
    const session = http2Connect(`https://127.0.0.1:${port}`, { servername: 'dir.test', rejectUnauthorized: false });
    try {
      const status = await new Promise<unknown>((resolve, reject) => {
        const stream = session.request({ ':path': '/status/204' });
        stream.on('response', (headers) => resolve(headers[':status']));
        stream.on('error', reject);
        stream.resume();
      });
      assert.equal(status, 204);
      assert.equal((session.socket as unknown as { getPeerCertificate(): { subject: { CN: string } } }).getPeerCertificate().subject.CN, 'dir.test');
    } finally {
      session.destroy();
    }
  });
});

describe('SNI options that cannot be served stop startup with one line', { skip: OPENSSL.skip }, () => {
  let dir: string;
  let pair: { cert: string; key: string };
  const https2 = () => ['--https2', `addr=127.0.0.1:0,cert=${pair.cert},key=${pair.key}`];

  before(() => {
    dir = tempDir('spry-sni-errors-');
    pair = makeCertificate(join(dir, 'a'), 'a.test');
  });

  test('a missing --sni file', async () => {
    await assertConfigError([...https2(), '--sni', `a.test,${dir}/nope.crt,${pair.key}`, ...TEST_APP], `--sni: ${dir}/nope.crt: cannot read (ENOENT)`);
  });

  test('a certificate and key that are not a pair', async () => {
    const other = makeCertificate(join(dir, 'b'), 'b.test');
    await assertConfigError([...https2(), '--sni', `a.test,${pair.cert},${other.key}`, ...TEST_APP], new RegExp(`^spry: --sni: ${pair.cert} and ${other.key} do not load as a certificate and its key \\(`));
  });

  test('too few fields', async () => {
    await assertConfigError([...https2(), '--sni', `a.test,${pair.cert}`, ...TEST_APP], `--sni: "a.test,${pair.cert}": expected NAME,CRT,KEY`);
  });

  test('a name that is not a host name', async () => {
    await assertConfigError([...https2(), '--sni', `a/b,${pair.cert},${pair.key}`, ...TEST_APP], '--sni: "a/b" is not a host name or *.domain');
  });

  test('per-name ciphers, which Node would not apply', async () => {
    await assertConfigError([...https2(), '--sni', `a.test,${pair.cert},${pair.key},HIGH`, ...TEST_APP], /^spry: --sni: ".*": per-name ciphers and client CA are not supported/);
  });

  test('a --sni-regexp that does not compile', async () => {
    await assertConfigError([...https2(), '--sni-regexp', `(,${pair.cert},${pair.key}`, ...TEST_APP], /^spry: --sni-regexp: "\(" is not a regular expression/);
  });

  test('a --sni-dir that is not a directory', async () => {
    await assertConfigError([...https2(), '--sni-dir', pair.cert, ...TEST_APP], `--sni-dir: ${pair.cert}: not a directory`);
  });

  test('--sni without any --https2 listener', async () => {
    await assertConfigError(['--http', '127.0.0.1:0', '--sni', `a.test,${pair.cert},${pair.key}`, ...TEST_APP], '--sni: chooses certificates for --https2 listeners, and there is none');
  });
});
