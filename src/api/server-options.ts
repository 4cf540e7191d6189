// createServer's options → what the listener layer serves: https.createServer's TLS options,
// node-spdy's `spdy: { protocols, plain, ssl, connection }` as node-spdy users write it, and
// spry's own knobs in camelCase (every tuning key of the command line, push, caches). A bad
// option throws a SpryError (SPRY_ERR_CONFIG) naming it, before anything is made.

import type { TlsOptions } from 'node:tls';
import { DEFAULTS, type CacheConfig, type StreamTuning } from '../config/config.ts';
import { ConfigError } from '../errors.ts';
import { isProtocolId, type ProtocolId } from '../listen/alpn.ts';
import type { HandlerSpec } from '../listen/handlers.ts';
import { selfSignedCertificateSync } from '../tls/self-signed.ts';
import { loadFilesIntoCaches, parseCache2 } from '../cli/cache2.ts';
import { TUNING_KEYS } from '../cli/tuning.ts';

/** node-spdy's `spdy` option, as its README documents it. */
export interface SpdyOptions {
  /** Protocol ids to offer, in order of preference (default: h2, spdy/3.1, spdy/3, spdy/2, http/1.1). */
  protocols?: readonly string[];
  /** No TLS: HTTP/1.1, h2c and plain SPDY, told apart by their first bytes (node-spdy's PlainServer). */
  plain?: boolean;
  /** node-spdy's agent option; a server ignores it, as node-spdy's does. */
  ssl?: boolean;
  connection?: {
    /** The per-stream receive window (spry's spdyWindow). */
    windowSize?: number;
    /** node-spdy's plain-SPDY flag; spry tells spdy/3.1 from spdy/3 by the protocols offered. */
    autoSpdy31?: boolean;
  };
  /**
   * node-spdy's X_FORWARDED_FOR frame, a node-spdy extension no browser sends: accepted and
   * ignored (spry sets X-Forwarded-For itself where it forwards).
   */
  'x-forwarded-for'?: boolean;
}

/** The tuning knobs, named as the command line's keys in camelCase (`--spdy-window` → spdyWindow). */
export interface TuningOptions {
  spdyMaxStreams?: number;
  spdyWindow?: number;
  spdySessionWindow?: number;
  spdyMaxFrame?: number;
  spdyMaxHeaders?: number;
  spdyMaxHeaderCount?: number;
  spdyMaxDataFrame?: number;
  writeBuffer?: number;
  readBuffer?: number;
}

export interface ServerOptions extends TlsOptions, TuningOptions {
  spdy?: SpdyOptions;
  /** A listener without TLS (HTTP/1.1 and h2c prior knowledge); the same as `spdy: { plain: true }`. */
  plain?: boolean;
  /** Push cached resources a response names in `Link: <…>; rel=preload` (default true). */
  push?: boolean;
  /** The cache pushes come from (default: the first of `cache2`). */
  pushCache?: string;
  /** Caches in --cache2's words: `'name=assets,items=100'`. They replace the process's caches. */
  cache2?: readonly string[];
  /** --load-file-in-cache's words: `'/static=public'` (a URL path and a file or directory). */
  loadFileInCache?: readonly string[];
  /** --http-timeout, in seconds: idle connections are closed (SPDY and h2 with GOAWAY). Default 60. */
  httpTimeout?: number;
}

/** node-spdy's default protocol list. */
const DEFAULT_PROTOCOLS: readonly ProtocolId[] = ['h2', 'spdy/3.1', 'spdy/3', 'spdy/2', 'http/1.1'];
const OPTION = 'createServer';

export interface ServerPlan {
  readonly spec: Extract<HandlerSpec, { kind: 'https' | 'http' }>;
  readonly idleTimeoutMs: number;
  /** Caches to install before the server serves (undefined: leave the process's as they are). */
  readonly caches: CacheConfig[] | undefined;
}

export function planServer(options: ServerOptions): ServerPlan {
  const { spdy = {}, plain: plainShorthand, push = true, pushCache, cache2, loadFileInCache, httpTimeout, ...rest } = options;
  const tls: TlsOptions = { ...rest };
  for (const key of TUNING_KEYS) delete (tls as Record<string, unknown>)[camelCase(key.name)];
  const plain = plainShorthand === true || spdy.plain === true;
  const protocols = protocolList(spdy.protocols);
  const tuning = tuningFrom(options, spdy);
  const caches = cache2 === undefined && loadFileInCache === undefined ? undefined : cachesFrom(cache2 ?? [], loadFileInCache ?? []);
  if (pushCache !== undefined && !(caches ?? []).some((cache) => cache.name === pushCache) && caches !== undefined) {
    throw new ConfigError(OPTION, `pushCache ${JSON.stringify(pushCache)} names none of cache2 (${caches.map((cache) => cache.name).join(', ') || 'none'})`);
  }
  const idleTimeoutMs = httpTimeout === undefined ? DEFAULTS.httpTimeoutMs : checkedSeconds('httpTimeout', httpTimeout);
  const common = { protocols, push, ...(pushCache === undefined ? {} : { pushCache }), tuning };
  if (plain) return { spec: { kind: 'http', ...common }, idleTimeoutMs, caches };
  return { spec: { kind: 'https', tls: withCertificate(tls), ...common }, idleTimeoutMs, caches };
}

function protocolList(given: readonly string[] | undefined): ProtocolId[] {
  if (given === undefined) return [...DEFAULT_PROTOCOLS];
  if (!Array.isArray(given) || given.length === 0) throw new ConfigError(OPTION, 'spdy.protocols must be a non-empty array of protocol ids');
  const unknown = given.filter((id) => typeof id !== 'string' || !isProtocolId(id));
  if (unknown.length > 0) throw new ConfigError(OPTION, `spdy.protocols: unknown protocol ${unknown.map((id) => JSON.stringify(id)).join(', ')} (known: ${DEFAULT_PROTOCOLS.join(', ')}, http/1.0)`);
  return [...new Set(given as ProtocolId[])];
}

function tuningFrom(options: ServerOptions, spdy: SpdyOptions): StreamTuning {
  const tuning: Record<string, number> = { ...DEFAULTS.tuning };
  const windowSize = spdy.connection?.windowSize;
  if (windowSize !== undefined) tuning.initialWindowBytes = checkedTuning('spdyWindow', windowSize, 'spdy.connection.windowSize');
  for (const key of TUNING_KEYS) {
    const name = camelCase(key.name);
    const value = (options as Record<string, unknown>)[name];
    if (value !== undefined) tuning[key.field] = checkedTuning(name, value);
  }
  return tuning as unknown as StreamTuning;
}

function checkedTuning(name: string, value: unknown, written = name): number {
  const key = TUNING_KEYS.find((candidate) => camelCase(candidate.name) === name)!;
  const { min, max, unit } = key.range;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(OPTION, `${written} must be a whole number of ${unit} from ${min} to ${max} (got ${String(value)})`);
  }
  return value;
}

function checkedSeconds(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new ConfigError(OPTION, `${name} must be a number of seconds, 0 or more (got ${String(value)})`);
  return Math.round(value * 1000);
}

function cachesFrom(cache2: readonly string[], files: readonly string[]): CacheConfig[] {
  const drafts = cache2.map((text) => parseCache2(`${OPTION} cache2`, text));
  return loadFilesIntoCaches(drafts, files.map((text) => ({ raw: `${OPTION} loadFileInCache`, text })));
}

/** TLS options with a certificate: the user's, or (given no key, cert or pfx) a self-signed one for localhost. */
function withCertificate(tls: TlsOptions): TlsOptions {
  if (tls.key !== undefined || tls.cert !== undefined || tls.pfx !== undefined || tls.SNICallback !== undefined) return tls;
  return { ...tls, ...selfSignedCertificateSync() };
}

function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}
