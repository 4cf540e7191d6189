// Picks the certificate for the server name a client sends (SNI): --sni names and `*.` wildcards,
// then --sni-regexp patterns in the order given, then --sni-dir's NAME.crt/NAME.key. A name that
// matches nothing (or no name at all) gets the listener's own --https2 certificate: node:tls
// uses the server's default context when the callback answers with none.
//
// Node applies only the certificate, key and chain of the context answered here (the ALPN list,
// ciphers and client verification stay the server's), which is why every name offers the same
// protocols, and why --sni takes no per-name ciphers or client CA.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { SniConfig, SniEntry } from '../config/config.ts';
import { logLine } from '../log.ts';

/** node:tls's SNICallback. */
export type SniCallback = (servername: string, answer: (error: Error | null, context?: SecureContext) => void) => void;

/** What a server name is, once checked: letters, digits, hyphens and dots (RFC 6066 §3: a DNS hostname). */
const HOST_NAME = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/;
const MAX_HOST_NAME_CHARS = 253;

interface Compiled {
  readonly exact: ReadonlyMap<string, SecureContext>;
  readonly wildcard: ReadonlyMap<string, SecureContext>;
  readonly patterns: readonly { readonly pattern: RegExp; readonly context: SecureContext }[];
}

export class SniTable {
  private compiled: Compiled;
  private readonly dir: string | undefined;
  /**
   * --sni-dir names with files: a context, or undefined when they do not load (logged once).
   * Names without files are not remembered (so one added later is found), which keeps this
   * map as small as the directory whatever names clients send.
   */
  private readonly found = new Map<string, Promise<SecureContext | undefined>>();

  constructor(config: SniConfig) {
    this.compiled = compile(config.entries);
    this.dir = config.dir;
  }

  /** Serves new handshakes from `entries`; --sni-dir files are read again on each name's next use. */
  replace(entries: readonly SniEntry[]): void {
    this.compiled = compile(entries);
    this.found.clear();
  }

  /** The context for `servername`, or undefined for the listener's own. */
  lookup(servername: string): SecureContext | undefined | Promise<SecureContext | undefined> {
    const name = servername.toLowerCase();
    if (name.length > MAX_HOST_NAME_CHARS || !HOST_NAME.test(name)) return undefined;
    const { exact, wildcard, patterns } = this.compiled;
    const dot = name.indexOf('.');
    const context = exact.get(name) ?? (dot > 0 ? wildcard.get(name.slice(dot)) : undefined);
    if (context !== undefined) return context;
    for (const { pattern, context } of patterns) if (pattern.test(name)) return context;
    return this.dir === undefined ? undefined : this.fromDirectory(this.dir, name);
  }

  readonly callback: SniCallback = (servername, answer) => {
    const context = this.lookup(servername);
    if (context instanceof Promise) void context.then((found) => answer(null, found));
    else answer(null, context);
  };

  private fromDirectory(dir: string, name: string): Promise<SecureContext | undefined> {
    const known = this.found.get(name);
    if (known !== undefined) return known;
    // In the map while pending, so concurrent first handshakes read the files once.
    const lookup = readPair(dir, name).then((result) => {
      if (result !== 'missing') return result;
      if (this.found.get(name) === lookup) this.found.delete(name);
      return undefined;
    });
    this.found.set(name, lookup);
    return lookup;
  }
}

/** NAME.crt and NAME.key in `dir`: 'missing' when either is absent; undefined (logged) when they do not load. */
async function readPair(dir: string, name: string): Promise<SecureContext | 'missing' | undefined> {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  let cert: string;
  let key: string;
  try {
    [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    logLine(`--sni-dir: cannot read ${certPath} or ${keyPath} (${(error as NodeJS.ErrnoException).code ?? String(error)}); "${name}" gets the default certificate`);
    return undefined;
  }
  try {
    return createSecureContext({ cert, key });
  } catch (error) {
    logLine(`--sni-dir: ${certPath} and ${keyPath} do not load as a certificate and its key (${error instanceof Error ? error.message : String(error)}); "${name}" gets the default certificate`);
    return undefined;
  }
}

function compile(entries: readonly SniEntry[]): Compiled {
  const exact = new Map<string, SecureContext>();
  const wildcard = new Map<string, SecureContext>();
  const patterns: { pattern: RegExp; context: SecureContext }[] = [];
  for (const entry of entries) {
    const context = createSecureContext({ cert: entry.cert, key: entry.key });
    const { match } = entry;
    // The first entry given for a name wins, as it does among patterns.
    if (match.kind === 'name' && !exact.has(match.name)) exact.set(match.name, context);
    else if (match.kind === 'wildcard' && !wildcard.has(match.suffix)) wildcard.set(match.suffix, context);
    else if (match.kind === 'regexp') patterns.push({ pattern: new RegExp(match.pattern, 'i'), context });
  }
  return { exact, wildcard, patterns };
}
