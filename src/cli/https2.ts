// `--https2 addr=A[,cert=C,key=K][,spdy=1][,…]`: one TLS listener. uWSGI's keys (addr, cert/crt,
// key, ciphers, clientca/client_ca, spdy) plus spry's own (h2 and the SPDY tuning knobs).
// Everything a listener needs is checked here, files included, so a bad keyval stops startup
// before anything is bound.

import { readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ConfigError } from '../errors.ts';
import { DEFAULTS, type Https2ListenerConfig, type SpdyTuning } from '../config/config.ts';
import type { PemPair } from '../tls/self-signed.ts';
import { parseAddress } from './address.ts';
import { parseKeyval } from './keyval.ts';
import { parseBit, parseInteger, type IntegerRange } from './numbers.ts';

export interface Https2Key {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly summary: string;
}

/** A tuning key: which SpdyTuning field it sets, and the values that make sense. */
interface TuningKey extends Https2Key {
  readonly field: keyof SpdyTuning;
  readonly range: IntegerRange;
}

// SPDY/3 §2.6.8: windows are 31-bit. §2.2: frame lengths are 24-bit.
const MAX_WINDOW_BYTES = 2 ** 31 - 1;
const MAX_FRAME_BYTES = 2 ** 24 - 1;

const TUNING_KEYS: readonly TuningKey[] = [
  {
    name: 'spdy-max-streams', aliases: [], field: 'maxConcurrentStreams',
    summary: `concurrent streams per client (default ${DEFAULTS.spdy.maxConcurrentStreams})`,
    range: { min: 1, max: 100_000, unit: 'streams' },
  },
  {
    name: 'spdy-window', aliases: [], field: 'initialWindowBytes',
    summary: `per-stream upload window in bytes (default ${DEFAULTS.spdy.initialWindowBytes})`,
    range: { min: 1024, max: MAX_WINDOW_BYTES, unit: 'bytes' },
  },
  {
    // Below 64 KiB would mean shrinking the window every spdy/3.1 session starts with.
    name: 'spdy-session-window', aliases: [], field: 'sessionWindowBytes',
    summary: `spdy/3.1 session upload window in bytes (default ${DEFAULTS.spdy.sessionWindowBytes})`,
    range: { min: 65_536, max: MAX_WINDOW_BYTES, unit: 'bytes' },
  },
  {
    // SPDY/3 §2.2.1: implementations must accept control frames of at least 8192 bytes.
    name: 'spdy-max-frame', aliases: [], field: 'maxControlFrameBytes',
    summary: `largest control frame accepted, in bytes (default ${DEFAULTS.spdy.maxControlFrameBytes})`,
    range: { min: 8192, max: MAX_FRAME_BYTES, unit: 'bytes' },
  },
  {
    name: 'spdy-max-headers', aliases: [], field: 'maxHeaderBlockBytes',
    summary: `largest inflated header block accepted, in bytes (default ${DEFAULTS.spdy.maxHeaderBlockBytes})`,
    range: { min: 8192, max: 16 << 20, unit: 'bytes' },
  },
  {
    name: 'spdy-max-header-count', aliases: [], field: 'maxHeaderCount',
    summary: `most header pairs in one block (default ${DEFAULTS.spdy.maxHeaderCount})`,
    range: { min: 16, max: 65_535, unit: 'headers' },
  },
  {
    name: 'spdy-max-data-frame', aliases: [], field: 'maxDataFrameBytes',
    summary: `largest DATA frame sent, in bytes (default ${DEFAULTS.spdy.maxDataFrameBytes})`,
    range: { min: 1024, max: MAX_FRAME_BYTES, unit: 'bytes' },
  },
];

/** Every key `--https2` accepts, for the table in --help. */
export const HTTPS2_KEYS: readonly Https2Key[] = [
  { name: 'addr', aliases: [], summary: 'where to listen: host:port, :port, [v6]:port or =N (required)' },
  { name: 'cert', aliases: ['crt'], summary: 'PEM certificate chain file (with key=; omit both for a self-signed localhost one)' },
  { name: 'key', aliases: [], summary: 'PEM private key file' },
  { name: 'ciphers', aliases: [], summary: 'OpenSSL cipher list for TLS 1.2 and below' },
  { name: 'clientca', aliases: ['client_ca'], summary: 'PEM CA file; clients must present a certificate it signed' },
  { name: 'spdy', aliases: [], summary: 'offer spdy/3.1, spdy/3 and spdy/2 by ALPN: 0 or 1 (default 0)' },
  { name: 'h2', aliases: [], summary: 'offer h2 by ALPN: 0 or 1 (default 1)' },
  ...TUNING_KEYS,
];

const KEY_BY_SPELLING = new Map<string, Https2Key>(
  HTTPS2_KEYS.flatMap((key) => [key.name, ...key.aliases].map((spelling) => [spelling, key] as const)),
);

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
): Promise<Https2ListenerConfig> {
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
  const spdyTuning = parseTuning(option, pairs);

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
    source: text,
    addr: address,
    cert: pem.cert,
    key: pem.key,
    selfSigned: cert === undefined,
    ...(ciphers === undefined ? {} : { ciphers: ciphers.value }),
    ...(clientCaPem === undefined ? {} : { clientCa: clientCaPem }),
    spdy,
    h2,
    spdyTuning,
  };
}

function parseOptionalBit(option: string, pair: WrittenPair | undefined, fallback: boolean): boolean {
  return pair === undefined ? fallback : parseBit(option, pair.written, pair.value);
}

function parseTuning(option: string, pairs: ReadonlyMap<string, WrittenPair>): SpdyTuning {
  const tuning: Record<keyof SpdyTuning, number> = { ...DEFAULTS.spdy };
  for (const key of TUNING_KEYS) {
    const pair = pairs.get(key.name);
    if (pair !== undefined) tuning[key.field] = parseInteger(option, `${pair.written}=${pair.value}`, pair.value, key.range);
  }
  return tuning;
}

async function readPem(option: string, pair: WrittenPair): Promise<string> {
  const culprit = `${pair.written}=${pair.value}`;
  if (pair.value === '') throw new ConfigError(option, `${pair.written}= is empty (expected a PEM file)`);
  let text: string;
  try {
    text = await readFile(pair.value, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ConfigError(option, `${culprit}: cannot read (${code})`);
  }
  if (!text.includes('-----BEGIN ')) throw new ConfigError(option, `${culprit}: not a PEM file (no -----BEGIN line)`);
  return text;
}

/** Fails with `message (OpenSSL's reason)` unless a TLS context accepts `options`. */
function checkLoads(option: string, message: string, options: SecureContextOptions): void {
  try {
    createSecureContext(options);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(option, `${message} (${reason})`);
  }
}
