import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { connect as tlsConnect, createSecureContext, createServer as createTlsServer } from 'node:tls';

const DAY_MS = 24 * 60 * 60 * 1000;
import { generateSelfSignedCertificate } from '../../src/tls/self-signed.ts';

describe('generateSelfSignedCertificate', () => {
  it('makes a P-256 certificate for localhost, 127.0.0.1 and ::1 that loads with its key', async () => {
    const { cert, key } = await generateSelfSignedCertificate();
    const x509 = new X509Certificate(cert);
    assert.equal(x509.subject, 'CN=localhost');
    assert.ok(x509.checkHost('localhost'));
    assert.ok(x509.checkIP('127.0.0.1'));
    assert.ok(x509.checkIP('::1'));
    assert.ok(x509.checkPrivateKey(createPrivateKey(key)));
    assert.equal(x509.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.doesNotThrow(() => createSecureContext({ cert, key }));
  });

  it('makes a fresh key each time', async () => {
    const [a, b] = await Promise.all([generateSelfSignedCertificate(), generateSelfSignedCertificate()]);
    assert.notEqual(a.key, b.key);
  });

  it('is valid now, for about a year, with a positive random serial', async () => {
    const x509 = new X509Certificate((await generateSelfSignedCertificate()).cert);
    const now = Date.now();
    assert.ok(Date.parse(x509.validFrom) <= now && now < Date.parse(x509.validTo));
    assert.ok(Date.parse(x509.validTo) - now > 364 * DAY_MS);
    assert.match(x509.serialNumber, /^[4-7][0-9A-F]{31}$/);
  });

  it('verifies as signed by its own key, so a TLS client that trusts only it accepts localhost', async () => {
    const { cert, key } = await generateSelfSignedCertificate();
    assert.ok(new X509Certificate(cert).verify(createPublicKey(key)));
    const server = createTlsServer({ cert, key }, (socket) => socket.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const socket = tlsConnect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, servername: 'localhost', ca: cert });
      const [authorized, body] = await new Promise<[boolean, string]>((resolve, reject) => {
        let text = '';
        socket.once('error', reject).setEncoding('utf8');
        socket.on('data', (chunk: string) => (text += chunk)).once('end', () => resolve([socket.authorized, text]));
      });
      assert.equal(authorized, true);
      assert.equal(body, 'hello');
    } finally {
      server.close();
    }
  });

  it('needs no openssl binary: it is made in-process, with nothing on PATH', async () => {
    const path = process.env.PATH;
    process.env.PATH = '';
    try {
      const { cert } = await generateSelfSignedCertificate();
      assert.equal(new X509Certificate(cert).subject, 'CN=localhost');
    } finally {
      process.env.PATH = path;
    }
  });
});
