// A throwaway certificate for localhost, so `--https2 addr=:8443` works without cert= and key=.
// Made by Debian's openssl binary rather than by hand-written ASN.1: Node can make keys but not
// certificates, and spry takes no dependencies for this.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConfigError } from '../errors.ts';

const execFileAsync = promisify(execFile);

const VALID_DAYS = 365;
// Generating a P-256 key and signing takes milliseconds; anything near this is a hung binary.
const OPENSSL_TIMEOUT_MS = 10_000;

export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

/** A P-256 self-signed certificate for CN=localhost, SAN localhost, 127.0.0.1 and ::1. */
export async function generateSelfSignedCertificate(): Promise<PemPair> {
  const dir = await mkdtemp(join(tmpdir(), 'spry-cert-'));
  try {
    const certPath = join(dir, 'cert.pem');
    const keyPath = join(dir, 'key.pem');
    await runOpenssl([
      'req', '-x509',
      '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
      '-nodes', '-days', String(VALID_DAYS),
      '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      '-keyout', keyPath, '-out', certPath,
    ]);
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    return { cert, key };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function runOpenssl(args: readonly string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args, { timeout: OPENSSL_TIMEOUT_MS });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') {
      throw new ConfigError('--https2', 'no cert= and key= given, and openssl (needed to generate a self-signed certificate) is not installed; pass cert= and key=');
    }
    const detail = errorLine(failure.stderr) ?? failure.message.split('\n')[0];
    throw new ConfigError('--https2', `no cert= and key= given, and openssl could not generate a self-signed certificate (${detail}); pass cert= and key=`);
  }
}

/** The line of openssl's stderr that says what went wrong (it may also print progress dots). */
function errorLine(stderr: string | undefined): string | undefined {
  const lines = (stderr ?? '').split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines.find((line) => /error/i.test(line)) ?? lines.at(-1);
}
