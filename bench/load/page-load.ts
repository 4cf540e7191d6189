// page-load: cold page loads, one after another, each on a fresh connection (scenario 7). A load
// is what a browser does for a page that preloads its subresources: TLS handshake, GET the page,
// read its `Link: <…>; rel=preload` targets from the response head, then fetch on the same
// connection every target the server has not pushed (a target pushed but not yet complete is
// waited for, not fetched). It ends when the page and every target are fully received.
//
//   node bench/load/page-load.ts [options] https://127.0.0.1:PORT/PATH
//     -p, --protocol spdy/3.1|spdy/3|spdy/2|h2   (default spdy/3.1; SPDY through spry's client)
//     -n, --loads N        measured loads (default 50), after
//         --warmup N       unmeasured loads (default 5)
//         --json           print one JSON object instead of the report
//
// Per load it records the page-load time (connect to last byte), the time after the handshake
// (GET of the page to last byte), the handshake, and the request waves: 1 when everything came
// with the page (pushed), 2 when the client had to ask for the targets after reading the head.
// Point it at bench/load/delay-proxy.ts to give every round trip a cost.

import { connect as h2Connect, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { createSecureContext, type SecureContext } from 'node:tls';
import { parseArgs } from 'node:util';
import { SpdyClient, headerValue, statusOf } from '../../src/spdy/client.ts';
import type { SpdySession } from '../../src/spdy/session.ts';
import type { SpdyStream } from '../../src/spdy/stream.ts';
import { SPDY_ALPN_IDS, type SpdyAlpn } from '../../src/spdy/versions.ts';

type Protocol = SpdyAlpn | 'h2';

export interface LoadSample {
  /** Connect to the last byte of the page and its preloads. */
  readonly pageLoadMs: number;
  /** The TLS handshake (and, for SPDY, ALPN): connect to the moment GET / is sent. */
  readonly setupMs: number;
  /** GET / sent to the last byte. */
  readonly afterSetupMs: number;
  /** Rounds of requests: the page's, then (if anything was not pushed) the preloads'. */
  readonly waves: number;
  /** Preload targets the server had pushed by the time the page's head arrived. */
  readonly pushed: number;
  /** … of which still incomplete then (waited for). */
  readonly pushWaits: number;
  /** Preload targets the client requested. */
  readonly fetched: number;
  /** Pushes that were not among the targets when the head arrived (late or unasked). */
  readonly otherPushes: number;
  /** Body bytes of the page and its preloads. */
  readonly bytes: number;
}

export interface Spread {
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly max: number;
}

export interface PageLoadResult {
  readonly protocol: Protocol;
  readonly loads: number;
  readonly warmupLoads: number;
  readonly pageLoadMs: Spread;
  readonly setupMs: Spread;
  readonly afterSetupMs: Spread;
  readonly waves: { readonly mean: number; readonly min: number; readonly max: number };
  readonly pushedPerLoad: number;
  readonly pushWaitsPerLoad: number;
  readonly fetchedPerLoad: number;
  readonly otherPushes: number;
  readonly bytesPerLoad: number;
  /** CPU the generator used over the measured loads, in cores. */
  readonly generatorCpuCores: number;
  readonly samples: readonly LoadSample[];
}

/** One load that takes this long has hung (a lost push, a stalled window): the run fails. */
const LOAD_TIMEOUT_MS = 10_000;

// ── one connection, whatever the protocol ──────────────────────────────────

interface ResponseHead {
  readonly status: number;
  readonly contentLength: number | undefined;
  /** Every Link header value. */
  readonly links: readonly string[];
}

/** A response on its way: its head, then its body (resolving with the body's length). */
interface Transfer {
  readonly head: Promise<ResponseHead>;
  readonly done: Promise<number>;
  complete: boolean;
}

interface PageConnection {
  /** Pushes announced so far, by path. */
  readonly pushes: Map<string, Transfer>;
  get(path: string): Transfer;
  close(): void;
}

interface TransferControl {
  readonly transfer: Transfer;
  head(head: ResponseHead): void;
  data(bytes: number): void;
  end(): void;
  fail(error: Error): void;
}

/** The bookkeeping both protocols share: head first, body bytes counted, length checked. */
function transferControl(what: string): TransferControl {
  let resolveHead!: (head: ResponseHead) => void;
  let rejectHead!: (error: Error) => void;
  let resolveDone!: (bytes: number) => void;
  let rejectDone!: (error: Error) => void;
  const head = new Promise<ResponseHead>((resolve, reject) => ((resolveHead = resolve), (rejectHead = reject)));
  const done = new Promise<number>((resolve, reject) => ((resolveDone = resolve), (rejectDone = reject)));
  // Whoever awaits them sees the failure; a transfer nobody awaits (a late push) must not crash.
  head.catch(() => {});
  done.catch(() => {});
  const transfer: Transfer = { head, done, complete: false };
  let received: ResponseHead | undefined;
  let bytes = 0;
  const fail = (error: Error): void => {
    rejectHead(error);
    rejectDone(error);
  };
  return {
    transfer,
    head(value) {
      received = value;
      if (value.status !== 200) return fail(new Error(`${what}: status ${value.status}`));
      resolveHead(value);
    },
    data(length) {
      bytes += length;
    },
    end() {
      if (received === undefined) return fail(new Error(`${what}: ended without a response head`));
      if (received.contentLength !== undefined && received.contentLength !== bytes) {
        return fail(new Error(`${what}: ${bytes} body bytes, content-length ${received.contentLength}`));
      }
      transfer.complete = true;
      resolveDone(bytes);
    },
    fail,
  };
}

function contentLength(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

/** A path from a request's path header (SPDY/2's is an absolute URL). */
function pathOf(target: string): string {
  if (target.startsWith('/')) return target;
  const url = new URL(target);
  return url.pathname + url.search;
}

async function connectSpdy(host: string, port: number, protocol: SpdyAlpn, secureContext: SecureContext): Promise<PageConnection> {
  const client = await SpdyClient.connect({ host, port, protocol, tls: { secureContext } });
  const session = client.session;
  const pushes = new Map<string, Transfer>();
  session.on('push', (stream, headers) => {
    const path = pathOf(headerValue(headers, session.version.headers.path) ?? '');
    pushes.set(path, spdyTransfer(stream, session, `push ${path}`, headers));
  });
  return {
    pushes,
    get: (path) => spdyTransfer(client.open(path), session, `GET ${path}`),
    close: () => session.destroy(),
  };
}

/** A request's response, or (with `pushHeaders`) a push, whose head came with its SYN_STREAM. */
function spdyTransfer(stream: SpdyStream, session: SpdySession, what: string, pushHeaders?: readonly string[]): Transfer {
  const control = transferControl(what);
  const onHead = (headers: readonly string[]): void => {
    const status = statusOf(session, headers as string[]);
    // A push may bring its status in a later HEADERS frame (SPDY/3 §3.3.1).
    if (status === 0 && pushHeaders !== undefined) return;
    const link = headerValue(headers as string[], 'link');
    control.head({ status, contentLength: contentLength(headerValue(headers as string[], 'content-length')), links: link === undefined ? [] : link.split('\0') });
  };
  if (pushHeaders !== undefined) {
    onHead(pushHeaders);
    stream.onHeaders = (headers) => onHead([...pushHeaders, ...headers]);
  } else {
    stream.onResponse = onHead;
  }
  stream.onAbort = (reason) => control.fail(reason);
  stream.setBodySink({
    data(chunk) {
      control.data(chunk.length);
      return true;
    },
    end: () => control.end(),
  });
  return control.transfer;
}

function connectH2(host: string, port: number, secureContext: SecureContext): Promise<PageConnection> {
  return new Promise((resolve, reject) => {
    const session = h2Connect(`https://${host}:${port}`, { secureContext, rejectUnauthorized: false });
    const pushes = new Map<string, Transfer>();
    // A PUSH_PROMISE: the pushed request's headers now, its response head on the stream's 'push'.
    session.on('stream', (stream, requestHeaders) => {
      const path = String(requestHeaders[':path']);
      pushes.set(path, h2Transfer(stream, 'push', `push ${path}`));
    });
    session.once('error', reject);
    session.once('connect', () => {
      session.off('error', reject);
      session.on('error', () => {}); // the streams report it
      resolve({
        pushes,
        get: (path) => h2Transfer(session.request({ ':path': path }, { endStream: true }), 'response', `GET ${path}`),
        close: () => session.destroy(),
      });
    });
  });
}

function h2Transfer(stream: ClientHttp2Stream, headEvent: 'response' | 'push', what: string): Transfer {
  const control = transferControl(what);
  stream.once(headEvent, (headers: IncomingHttpHeaders) => {
    const link = headers.link as string | string[] | undefined;
    control.head({
      status: Number(headers[':status']),
      contentLength: contentLength(headers['content-length']),
      links: link === undefined ? [] : Array.isArray(link) ? link : [link],
    });
  });
  stream.on('data', (chunk: Buffer) => control.data(chunk.length));
  stream.once('end', () => control.end());
  stream.once('error', (error) => control.fail(error));
  stream.once('close', () => {
    if (!control.transfer.complete) control.fail(new Error(`${what}: stream closed (code ${stream.rstCode})`));
  });
  return control.transfer;
}

// ── a page load ────────────────────────────────────────────────────────────

/**
 * The targets of `rel=preload` links, read independently of spry's own parser (which decides
 * what to push): a disagreement shows up as a fetched target or an unasked push.
 */
export function preloadTargets(links: readonly string[]): string[] {
  const targets: string[] = [];
  for (const value of links) {
    for (const match of value.matchAll(/<([^>]*)>([^<]*)/g)) {
      if (/;\s*rel\s*=\s*"?[^";,]*\bpreload\b/i.test(match[2])) targets.push(match[1]);
    }
  }
  return targets;
}

async function loadOnce(open: () => Promise<PageConnection>, path: string): Promise<LoadSample> {
  const started = performance.now();
  const connection = await open();
  const connected = performance.now();
  try {
    const page = connection.get(path);
    const head = await page.head;
    // Let every push announced in the same read as the head be registered first.
    await new Promise((resolve) => setImmediate(resolve));
    const targets = [...new Set(preloadTargets(head.links))];
    const pushed = targets.filter((target) => connection.pushes.has(target));
    const pushWaits = pushed.filter((target) => !connection.pushes.get(target)!.complete).length;
    const fetched = targets.filter((target) => !connection.pushes.has(target));
    const bodies = [page.done, ...pushed.map((target) => connection.pushes.get(target)!.done), ...fetched.map((target) => connection.get(target).done)];
    const bytes = (await Promise.all(bodies)).reduce((sum, n) => sum + n, 0);
    const finished = performance.now();
    return {
      pageLoadMs: finished - started,
      setupMs: connected - started,
      afterSetupMs: finished - connected,
      waves: fetched.length > 0 ? 2 : 1,
      pushed: pushed.length,
      pushWaits,
      fetched: fetched.length,
      otherPushes: connection.pushes.size - pushed.length,
      bytes,
    };
  } finally {
    connection.close();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function runPageLoads(url: URL, protocol: Protocol, loads: number, warmupLoads: number): Promise<PageLoadResult> {
  const host = url.hostname;
  const port = Number(url.port || 443);
  const path = url.pathname + url.search;
  const secureContext = createSecureContext();
  const open = protocol === 'h2' ? () => connectH2(host, port, secureContext) : () => connectSpdy(host, port, protocol, secureContext);
  for (let i = 0; i < warmupLoads; i++) await withTimeout(loadOnce(open, path), LOAD_TIMEOUT_MS, `warm-up load ${i + 1}`);
  const samples: LoadSample[] = [];
  const cpuAtStart = process.cpuUsage();
  const startedAt = performance.now();
  for (let i = 0; i < loads; i++) samples.push(await withTimeout(loadOnce(open, path), LOAD_TIMEOUT_MS, `load ${i + 1}`));
  const seconds = (performance.now() - startedAt) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  const mean = (pick: (sample: LoadSample) => number): number => samples.reduce((sum, sample) => sum + pick(sample), 0) / samples.length;
  const waves = samples.map((sample) => sample.waves);
  return {
    protocol,
    loads,
    warmupLoads,
    pageLoadMs: spread(samples.map((sample) => sample.pageLoadMs)),
    setupMs: spread(samples.map((sample) => sample.setupMs)),
    afterSetupMs: spread(samples.map((sample) => sample.afterSetupMs)),
    waves: { mean: mean((sample) => sample.waves), min: Math.min(...waves), max: Math.max(...waves) },
    pushedPerLoad: mean((sample) => sample.pushed),
    pushWaitsPerLoad: mean((sample) => sample.pushWaits),
    fetchedPerLoad: mean((sample) => sample.fetched),
    otherPushes: samples.reduce((sum, sample) => sum + sample.otherPushes, 0),
    bytesPerLoad: mean((sample) => sample.bytes),
    generatorCpuCores: (cpu.user + cpu.system) / 1e6 / seconds,
    samples: samples.map((sample) => ({ ...sample, pageLoadMs: round(sample.pageLoadMs), setupMs: round(sample.setupMs), afterSetupMs: round(sample.afterSetupMs) })),
  };
}

/** Mean and nearest-rank percentiles, in ms to the microsecond. */
function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
  return { mean: round(values.reduce((sum, n) => sum + n, 0) / values.length), p50: round(at(0.5)), p90: round(at(0.9)), max: round(sorted[sorted.length - 1]) };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function report(result: PageLoadResult): string {
  const line = (name: string, value: Spread): string => `${name}: p50 ${value.p50.toFixed(1)} / p90 ${value.p90.toFixed(1)} / max ${value.max.toFixed(1)} ms (mean ${value.mean.toFixed(1)})`;
  return [
    `${result.protocol}: ${result.loads} cold page loads (after ${result.warmupLoads} unmeasured), one fresh connection each`,
    line('page load', result.pageLoadMs),
    line('  handshake', result.setupMs),
    line('  after it', result.afterSetupMs),
    `request waves per load: mean ${result.waves.mean.toFixed(2)} (min ${result.waves.min}, max ${result.waves.max})`,
    `preloads per load: ${result.pushedPerLoad.toFixed(2)} pushed (${result.pushWaitsPerLoad.toFixed(2)} still arriving when the head came), ${result.fetchedPerLoad.toFixed(2)} fetched; ${result.otherPushes} other pushes in all`,
    `${Math.round(result.bytesPerLoad)} body bytes per load; generator CPU ${(result.generatorCpuCores * 100).toFixed(0)} % of one core`,
  ].join('\n');
}

if (import.meta.main) {
  try {
    const { values, positionals } = parseArgs({
      allowPositionals: true,
      options: {
        protocol: { type: 'string', short: 'p', default: 'spdy/3.1' },
        loads: { type: 'string', short: 'n', default: '50' },
        warmup: { type: 'string', default: '5' },
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length !== 1) throw new Error('give exactly one URL, e.g. https://127.0.0.1:8443/');
    const url = new URL(positionals[0]);
    if (url.protocol !== 'https:') throw new Error('the URL must be https://');
    const protocol = values.protocol as Protocol;
    if (protocol !== 'h2' && !SPDY_ALPN_IDS.includes(protocol)) throw new Error(`--protocol must be h2 or one of ${SPDY_ALPN_IDS.join(', ')}`);
    const loads = Number(values.loads);
    const warmup = Number(values.warmup);
    if (!Number.isSafeInteger(loads) || loads < 1) throw new Error(`--loads must be a positive integer, not ${values.loads}`);
    if (!Number.isSafeInteger(warmup) || warmup < 0) throw new Error(`--warmup must be an integer ≥ 0, not ${values.warmup}`);
    const result = await runPageLoads(url, protocol, loads, warmup);
    process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${report(result)}\n`);
  } catch (error) {
    process.stderr.write(`page-load: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  }
}
