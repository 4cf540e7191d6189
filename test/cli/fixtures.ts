// Certificates for CLI tests, made once per test file by the same generator spry uses.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSelfSignedCertificate, type PemPair } from '../../src/tls/self-signed.ts';

export interface CertificateFiles {
  readonly dir: string;
  readonly pems: readonly [PemPair, PemPair];
  /** cert.pem/key.pem belong together; other-key.pem belongs to another certificate. */
  readonly certPath: string;
  readonly keyPath: string;
  readonly otherKeyPath: string;
  readonly notPemPath: string;
  remove(): Promise<void>;
}

export async function makeCertificateFiles(): Promise<CertificateFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'spry-cli-test-'));
  const pems = [await generateSelfSignedCertificate(), await generateSelfSignedCertificate()] as const;
  const files = {
    certPath: join(dir, 'cert.pem'),
    keyPath: join(dir, 'key.pem'),
    otherKeyPath: join(dir, 'other-key.pem'),
    notPemPath: join(dir, 'not.pem'),
  };
  await writeFile(files.certPath, pems[0].cert);
  await writeFile(files.keyPath, pems[0].key);
  await writeFile(files.otherKeyPath, pems[1].key);
  await writeFile(files.notPemPath, 'hello\n');
  return { dir, pems, ...files, remove: () => rm(dir, { recursive: true, force: true }) };
}
