// A throwaway certificate for localhost, so `--https2 addr=:8443` works without cert= and key=.
// Made by Debian's openssl binary rather than by hand-written ASN.1: Node can make keys but not
// certificates, and spry takes no dependencies for this.

import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
export async function generateSelfSignedCertificate(option = '--https2'): Promise<PemPair> {
  const dir = await mkdtemp(join(tmpdir(), 'spry-cert-'));
  try {
    const paths = pemPaths(dir);
    try {
      await execFileAsync('openssl', opensslArgs(paths), { timeout: OPENSSL_TIMEOUT_MS });
    } catch (error) {
      throw opensslFailure(option, error);
    }
    const [cert, key] = await Promise.all([readFile(paths.cert, 'utf8'), readFile(paths.key, 'utf8')]);
    return { cert, key };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let made: PemPair | undefined;

/**
 * The same, made at once and kept for the process: createServer() returns a server
 * synchronously, as http.createServer does, and a test run may make thousands.
 */
export function selfSignedCertificateSync(option: string): PemPair {
  if (made !== undefined) return made;
  const dir = mkdtempSync(join(tmpdir(), 'spry-cert-'));
  try {
    const paths = pemPaths(dir);
    try {
      execFileSync('openssl', opensslArgs(paths), { timeout: OPENSSL_TIMEOUT_MS, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      throw opensslFailure(option, error);
    }
    return (made = { cert: readFileSync(paths.cert, 'utf8'), key: readFileSync(paths.key, 'utf8') });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function pemPaths(dir: string): PemPair {
  return { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
}

function opensslArgs(paths: PemPair): string[] {
  return [
    'req', '-x509',
    '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-days', String(VALID_DAYS),
    '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
    '-keyout', paths.key, '-out', paths.cert,
  ];
}

function opensslFailure(option: string, error: unknown): ConfigError {
  const failure = error as NodeJS.ErrnoException & { stderr?: string | Buffer };
  const given = option === '--https2' ? 'cert= and key=' : 'key and cert';
  if (failure.code === 'ENOENT') {
    return new ConfigError(option, `no ${given} given, and openssl (needed to generate a self-signed certificate) is not installed; pass ${given}`);
  }
  const detail = errorLine(failure.stderr?.toString()) ?? failure.message.split('\n')[0];
  return new ConfigError(option, `no ${given} given, and openssl could not generate a self-signed certificate (${detail}); pass ${given}`);
}

/** The line of openssl's stderr that says what went wrong (it may also print progress dots). */
function errorLine(stderr: string | undefined): string | undefined {
  const lines = (stderr ?? '').split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines.find((line) => /error/i.test(line)) ?? lines.at(-1);
}
