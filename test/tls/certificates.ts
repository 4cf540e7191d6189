// Certificates for the SNI and reload tests, made by openssl (one P-256 key and self-signed
// certificate per common name), and the handshakes that read back which one a server chose.

import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { spawnSpry, type SpryRun } from '../master/master-process.ts';
import { OPENSSL } from '../tools/tools.ts';

const HANDSHAKE_TIMEOUT_MS = 5_000;

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `base`.crt and `base`.key (a certificate for CN=`cn`); returns their paths. */
export function makeCertificate(base: string, cn: string): { cert: string; key: string } {
  const cert = `${base}.crt`;
  const key = `${base}.key`;
  execFileSync(OPENSSL.path!, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`], { stdio: 'ignore' });
  return { cert, key };
}

export interface Handshake {
  /** The common name of the certificate the server sent. */
  readonly cn: string;
  readonly alpn: string | false;
}

/** One TLS handshake with 127.0.0.1:`port`, sending `servername` as SNI (none when undefined). */
export function handshake(port: number, servername?: string, alpn: readonly string[] = ['http/1.1']): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: [...alpn], ...(servername === undefined ? {} : { servername }) });
    const timer = setTimeout(() => socket.destroy(new Error(`no handshake with ${servername ?? 'no SNI'} within ${HANDSHAKE_TIMEOUT_MS} ms`)), HANDSHAKE_TIMEOUT_MS);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const cn = socket.getPeerCertificate().subject?.CN;
      resolve({ cn: Array.isArray(cn) ? cn.join(',') : (cn ?? ''), alpn: socket.alpnProtocol ?? false });
      socket.destroy();
    });
  });
}

/** The CN `openssl s_client -servername NAME` reports for 127.0.0.1:`port`. */
export function opensslSubject(port: number, servername: string): string {
  const output = execFileSync(OPENSSL.path!, ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', servername], { input: '', timeout: HANDSHAKE_TIMEOUT_MS, stdio: ['pipe', 'pipe', 'ignore'] }).toString();
  const subject = /^subject=.*?CN\s*=\s*([^,\n]+)/m.exec(output);
  if (subject === null) throw new Error(`no subject in openssl s_client's output:\n${output}`);
  return subject[1].trim();
}

/** Spawns spry without a master and resolves with its first https port. */
export async function startSingle(args: readonly string[]): Promise<{ spry: SpryRun; port: number }> {
  const spry = spawnSpry(args);
  const line = await spry.waitForLine(/^spry: serving .* on https:\/\/127\.0\.0\.1:\d+ /, 20_000);
  return { spry, port: Number(/:(\d+) /.exec(line)![1]) };
}

/** How many stderr lines of `spry` match `pattern`. */
export function countLines(spry: SpryRun, pattern: RegExp): number {
  return spry.stderr().split('\n').filter((line) => pattern.test(line)).length;
}
