// Reading PEM files and checking that OpenSSL takes them: at startup (a failure is a
// configuration error) and on a certificate reload (a failure keeps the old context).

import { readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContextOptions } from 'node:tls';

/** A PEM file that cannot be used; the message names the file and why, for one line. */
export class PemFileError extends Error {
  override readonly name = 'PemFileError';
}

/** The text of the PEM file at `path`. */
export async function readPemFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new PemFileError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'unknown error'})`);
  }
  if (!text.includes('-----BEGIN ')) throw new PemFileError(`${path}: not a PEM file (no -----BEGIN line)`);
  return text;
}

/** OpenSSL's reason `options` do not make a TLS context, or undefined when they do. */
export function contextFailure(options: SecureContextOptions): string | undefined {
  try {
    createSecureContext(options);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
