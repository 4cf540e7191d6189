// A certificate reload: every --https2 and --sni file read again. What no longer loads keeps its
// old PEM text (the context in use stays) and yields one line saying so.

import type { Https2ListenerConfig, SniEntry, SpryConfig } from '../config/config.ts';
import { contextFailure, readPemFile } from './pem-files.ts';

/** The parts of a configuration that hold certificates. */
export type CertificateConfig = Pick<SpryConfig, 'https2' | 'sni'>;

export interface Reread {
  readonly certificates: CertificateConfig;
  /** One line per listener or --sni entry that kept its old certificate. */
  readonly problems: readonly string[];
}

export async function rereadCertificates(current: CertificateConfig): Promise<Reread> {
  const problems: string[] = [];
  const https2 = await Promise.all(current.https2.map(async (listener): Promise<Https2ListenerConfig> => {
    const { files } = listener;
    if (files === undefined) return listener; // self-signed: nothing on disk
    const fresh = await readAll({ cert: files.cert, key: files.key, ...(files.clientCa === undefined ? {} : { ca: files.clientCa }) }, listener.ciphers);
    if (typeof fresh === 'string') {
      problems.push(`--https2 ${listener.source}: ${fresh}; keeping the certificate loaded before`);
      return listener;
    }
    return { ...listener, cert: fresh.cert, key: fresh.key, ...(fresh.ca === undefined ? {} : { clientCa: fresh.ca }) };
  }));
  if (current.sni === undefined) return { certificates: { https2 }, problems };
  const entries = await Promise.all(current.sni.entries.map(async (entry): Promise<SniEntry> => {
    const fresh = await readAll(entry.files, undefined);
    if (typeof fresh === 'string') {
      problems.push(`--sni ${entry.source}: ${fresh}; keeping the certificate loaded before`);
      return entry;
    }
    return { ...entry, cert: fresh.cert, key: fresh.key };
  }));
  return { certificates: { https2, sni: { ...current.sni, entries } }, problems };
}

type Pems = { cert: string; key: string; ca?: string };

/** The files' text, or why they do not make a context. */
async function readAll(files: Pems, ciphers: string | undefined): Promise<Pems | string> {
  let pems: Pems;
  try {
    const [cert, key, ca] = await Promise.all([readPemFile(files.cert), readPemFile(files.key), files.ca === undefined ? undefined : readPemFile(files.ca)]);
    pems = { cert, key, ...(ca === undefined ? {} : { ca }) };
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const reason = contextFailure({ ...pems, ...(ciphers === undefined ? {} : { ciphers }) });
  return reason === undefined ? pems : `${files.cert} and ${files.key} do not load (${reason})`;
}
