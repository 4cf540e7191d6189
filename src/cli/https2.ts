// `--https2 addr=A[,cert=C,key=K][,spdy=1][,…]`: one TLS listener. uWSGI's keys (addr, cert/crt,
// key, ciphers, clientca/client_ca, spdy) plus spry's own (h2, push and the tuning knobs).
// Everything a listener needs is checked here, files included, so a bad keyval stops startup
// before anything is bound.

import type { SecureContextOptions } from 'node:tls';
import { ConfigError } from '../errors.ts';
import type { Https2ListenerConfig, StreamTuning } from '../config/config.ts';
import { contextFailure, readPemFile } from '../tls/pem-files.ts';
import type { PemPair } from '../tls/self-signed.ts';
import { parseAddress } from './address.ts';
import { parseKeyval } from './keyval.ts';
import { parseBit } from './numbers.ts';
import { parseTuningValue, TUNING_KEYS } from './tuning.ts';

export interface Https2Key {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly summary: string;
}

/** Every key `--https2` accepts, for the table in --help. */
export const HTTPS2_KEYS: readonly Https2Key[] = [
  { name: 'addr', aliases: [], summary: 'where to listen: host:port, :port, [v6]:port or =N (required)' },
  { name: 'cert', aliases: ['crt'], summary: 'PEM certificate chain file (with key=; omit both for a self-signed localhost one)' },
  { name: 'key', aliases: [], summary: 'PEM private key file' },
  { name: 'ciphers', aliases: [], summary: 'OpenSSL cipher list for TLS 1.2 and below' },
  { name: 'clientca', aliases: ['client_ca'], summary: 'PEM CA file; clients must present a certificate it signed' },
  { name: 'spdy', aliases: [], summary: 'offer spdy/3.1, spdy/3 and spdy/2 by ALPN: 0 or 1 (default 0)' },
  { name: 'h2', aliases: [], summary: 'offer h2 by ALPN: 0 or 1 (default 1)' },
  { name: 'push', aliases: [], summary: 'push cached resources a response names in Link: <…>; rel=preload: 0 or 1 (default 1)' },
  { name: 'push-cache', aliases: [], summary: 'the --cache2 pushes come from (default: the first one)' },
  ...TUNING_KEYS.map((key) => ({ name: key.name, aliases: [], summary: key.summary })),
];

const KEY_BY_SPELLING = new Map<string, Https2Key>(
  HTTPS2_KEYS.flatMap((key) => [key.name, ...key.aliases].map((spelling) => [spelling, key] as const)),
);

/** One --https2 as written: the listener, and the tuning keys it sets itself. */
export interface ParsedHttps2 {
  readonly listener: Omit<Https2ListenerConfig, 'tuning'>;
  readonly tuning: Partial<StreamTuning>;
}

/** A pair as written, filed under its key's canonical name. */
interface WrittenPair {
  readonly written: string;
  readonly value: string;
}

/**
 * Parses one `--https2` value. `selfSigned` supplies a certificate when neither cert= nor key=
 * is given (the caller shares one across listeners).
 */
export async function parseHttps2(
  option: string,
  text: string,
  selfSigned: () => Promise<PemPair>,
): Promise<ParsedHttps2> {
  const pairs = new Map<string, WrittenPair>();
  for (const { key, value } of parseKeyval(option, text)) {
    const spec = KEY_BY_SPELLING.get(key);
    if (spec === undefined) {
      throw new ConfigError(option, `unknown key "${key}" (known: ${HTTPS2_KEYS.map((k) => k.name).join(', ')})`);
    }
    const earlier = pairs.get(spec.name);
    if (earlier !== undefined) throw new ConfigError(option, `${earlier.written}= and ${key}= both given`);
    pairs.set(spec.name, { written: key, value });
  }

  const addr = pairs.get('addr');
  if (addr === undefined) throw new ConfigError(option, `"${text}" has no addr= (e.g. addr=:8443)`);
  const cert = pairs.get('cert');
  const key = pairs.get('key');
  if (cert !== undefined && key === undefined) throw new ConfigError(option, `${cert.written}= given without key=`);
  if (key !== undefined && cert === undefined) throw new ConfigError(option, `key= given without cert=`);

  const address = parseAddress(option, addr.value, 'addr');
  const spdy = parseOptionalBit(option, pairs.get('spdy'), false);
  const h2 = parseOptionalBit(option, pairs.get('h2'), true);
  const push = parseOptionalBit(option, pairs.get('push'), true);
  const pushCache = pairs.get('push-cache');
  if (pushCache !== undefined && pushCache.value === '') throw new ConfigError(option, 'push-cache= is empty (expected a --cache2 name)');
  const tuning = parseTuning(option, pairs);

  const ciphers = pairs.get('ciphers');
  if (ciphers !== undefined && ciphers.value === '') throw new ConfigError(option, `ciphers= is empty`);
  const clientCa = pairs.get('clientca');
  const pem = cert !== undefined && key !== undefined
    ? { cert: await readPem(option, cert), key: await readPem(option, key) }
    : await selfSigned();
  const clientCaPem = clientCa === undefined ? undefined : await readPem(option, clientCa);

  const pairName = cert !== undefined && key !== undefined
    ? `${cert.written}=${cert.value} and key=${key.value}`
    : 'the generated certificate';
  checkLoads(option, `${pairName} do not load as a certificate and its key`, { cert: pem.cert, key: pem.key });
  if (ciphers !== undefined) {
    checkLoads(option, `${ciphers.written}=${ciphers.value}: not accepted by OpenSSL`, { ciphers: ciphers.value });
  }
  if (clientCa !== undefined) {
    checkLoads(option, `${clientCa.written}=${clientCa.value}: does not load as CA certificates`, { ca: clientCaPem });
  }

  return {
    tuning,
    listener: {
      source: text,
      addr: address,
      cert: pem.cert,
      key: pem.key,
      selfSigned: cert === undefined,
      ...(cert === undefined || key === undefined ? {} : { files: { cert: cert.value, key: key.value, ...(clientCa === undefined ? {} : { clientCa: clientCa.value }) } }),
      ...(ciphers === undefined ? {} : { ciphers: ciphers.value }),
      ...(clientCaPem === undefined ? {} : { clientCa: clientCaPem }),
      spdy,
      h2,
      push,
      ...(pushCache === undefined ? {} : { pushCache: pushCache.value }),
    },
  };
}

function parseOptionalBit(option: string, pair: WrittenPair | undefined, fallback: boolean): boolean {
  return pair === undefined ? fallback : parseBit(option, pair.written, pair.value);
}

/** Only the knobs this listener sets: the global options fill in the rest once all are read. */
function parseTuning(option: string, pairs: ReadonlyMap<string, WrittenPair>): Partial<StreamTuning> {
  const tuning: Partial<Record<keyof StreamTuning, number>> = {};
  for (const key of TUNING_KEYS) {
    const pair = pairs.get(key.name);
    if (pair !== undefined) tuning[key.field] = parseTuningValue(option, `${pair.written}=${pair.value}`, key, pair.value);
  }
  return tuning;
}

async function readPem(option: string, pair: WrittenPair): Promise<string> {
  if (pair.value === '') throw new ConfigError(option, `${pair.written}= is empty (expected a PEM file)`);
  try {
    return await readPemFile(pair.value);
  } catch (error) {
    throw new ConfigError(option, `${pair.written}=${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Fails with `message (OpenSSL's reason)` unless a TLS context accepts `options`. */
function checkLoads(option: string, message: string, options: SecureContextOptions): void {
  const reason = contextFailure(options);
  if (reason !== undefined) throw new ConfigError(option, `${message} (${reason})`);
}
