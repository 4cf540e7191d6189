import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { createSecureContext } from 'node:tls';
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
});
