// The certificates a process's TLS listeners serve, swapped whole on a certificate reload: each
// listener's own context by tls.Server#setSecureContext, the SNI table by replacement. A TLS
// session already established keeps the context it was made with, so connections open across a
// reload finish as they started; only new handshakes see the new certificates.

import { unwatchFile, watchFile, type Stats } from 'node:fs';
import type { Server as TlsServer } from 'node:tls';
import { logLine } from '../log.ts';
import { rereadCertificates, type CertificateConfig } from '../tls/reread.ts';
import { SniTable, type SniCallback } from '../tls/sni.ts';
import { tlsOptionsFor } from './https-listener.ts';

/** How often --touch-certs files are polled (as --touch-reload's). */
const TOUCH_POLL_MS = 1000;

export class ServedCertificates {
  private current: CertificateConfig;
  private readonly sni: SniTable | undefined;
  /** The --https2 listeners' servers, in the configuration's order. */
  private readonly servers: TlsServer[] = [];

  constructor(certificates: CertificateConfig) {
    this.current = certificates;
    const sni = certificates.sni;
    this.sni = sni !== undefined && (sni.entries.length > 0 || sni.dir !== undefined) ? new SniTable(sni) : undefined;
  }

  /** For every --https2 listener's TLS options (absent without --sni or --sni-dir). */
  get sniCallback(): SniCallback | undefined {
    return this.sni?.callback;
  }

  /** The next --https2 listener's server (they are added in the configuration's order). */
  serve(server: TlsServer): void {
    this.servers.push(server);
  }

  /** New handshakes get `certificates` (as rereadCertificates returned them). */
  apply(certificates: CertificateConfig): void {
    this.current = certificates;
    certificates.https2.forEach((listener, index) => this.servers[index]?.setSecureContext(tlsOptionsFor(listener)));
    this.sni?.replace(certificates.sni?.entries ?? []);
  }

  /** Reads every file again and applies what loads (the rest logs one line each); returns what is served now. */
  async reload(): Promise<CertificateConfig> {
    const { certificates, problems } = await rereadCertificates(this.current);
    for (const problem of problems) logLine(`certificate reload: ${problem}`);
    this.apply(certificates);
    if (problems.length === 0) logLine('certificate reload: every certificate read again');
    return certificates;
  }
}

/** Calls `reload` when a --touch-certs file's mtime changes; returns what stops watching. */
export function watchTouchCerts(files: readonly string[], reload: () => void): () => void {
  const watchers = files.map((file) => {
    const watcher = (now: Stats, before: Stats): void => {
      if (now.mtimeMs === before.mtimeMs) return;
      logLine(`${file} was touched: reading the certificates again`);
      reload();
    };
    watchFile(file, { interval: TOUCH_POLL_MS }, watcher);
    return () => unwatchFile(file, watcher);
  });
  return () => {
    for (const unwatch of watchers) unwatch();
  };
}
