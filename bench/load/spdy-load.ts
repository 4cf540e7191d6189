// spdy-load: an h2load-like load generator for SPDY/2, /3 and /3.1, built on spry's own client.
//
//   node bench/load/spdy-load.ts [options] https://127.0.0.1:PORT/PATH
//     -p, --protocol spdy/3.1|spdy/3|spdy/2   (default spdy/3.1)
//     -c, --connections N                     (default 4)
//     -m, --streams N      concurrent streams per connection (default 100)
//     -D, --duration S     measure for S seconds (default 10), after
//         --warmup S       seconds of unmeasured load (default 2)
//     -n, --requests N     instead of a duration: send N requests in all, measure all of them
//     -d, --body-bytes N   POST an N-byte body with every request
//     -t, --threads N      worker threads (default: one per core, at most one per connection)
//         --json           print one JSON object instead of the report
//
// So that the generator is not the bottleneck, each worker thread drives its own share of the
// connections on its own event loop; the report includes the CPU time the whole generator
// process used, to compare with the server's.

import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { SPDY_ALPN_IDS, type SpdyAlpn } from '../../src/spdy/versions.ts';
import { LatencyHistogram } from '../lib/histogram.ts';
import type { WorkerCommand, WorkerPlan, WorkerReport, WorkerResult } from './spdy-load-worker.ts';

export interface SpdyLoadResult {
  readonly protocol: SpdyAlpn;
  readonly connections: number;
  readonly streams: number;
  readonly threads: number;
  readonly mode: 'duration' | 'requests';
  /** The measured window (duration mode) or the whole run (requests mode). */
  readonly seconds: number;
  readonly succeeded: number;
  readonly errored: number;
  readonly statuses: Record<string, number>;
  readonly requestsPerSecond: number;
  /** Request plus response body bytes per second. */
  readonly bodyBytesPerSecond: number;
  readonly latencyMs: { readonly mean: number; readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
  /** Connections still open at the end of the window. */
  readonly openConnections: number;
  /** CPU the generator process used during the window, in cores (1.0 = one core busy). */
  readonly generatorCpuCores: number;
}

const CONNECT_TIMEOUT_MS = 60_000;
/** Requests-mode runs end by themselves; this only bounds a stuck one. */
const REQUESTS_MODE_TIMEOUT_MS = 10 * 60_000;

interface Options {
  readonly url: URL;
  readonly protocol: SpdyAlpn;
  readonly connections: number;
  readonly streams: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly requests: number | undefined;
  readonly bodyBytes: number;
  readonly threads: number;
  readonly json: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      protocol: { type: 'string', short: 'p', default: 'spdy/3.1' },
      connections: { type: 'string', short: 'c', default: '4' },
      streams: { type: 'string', short: 'm', default: '100' },
      duration: { type: 'string', short: 'D', default: '10' },
      warmup: { type: 'string', default: '2' },
      requests: { type: 'string', short: 'n' },
      'body-bytes': { type: 'string', short: 'd', default: '0' },
      threads: { type: 'string', short: 't', default: String(availableParallelism()) },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) throw new Error('give exactly one URL, e.g. https://127.0.0.1:8443/');
  const url = new URL(positionals[0]);
  if (url.protocol !== 'https:') throw new Error('SPDY runs over TLS: the URL must be https://');
  const protocol = values.protocol as SpdyAlpn;
  if (!SPDY_ALPN_IDS.includes(protocol)) throw new Error(`--protocol must be one of ${SPDY_ALPN_IDS.join(', ')}`);
  const connections = positiveInteger('--connections', values.connections);
  return {
    url,
    protocol,
    connections,
    streams: positiveInteger('--streams', values.streams),
    durationMs: positiveNumber('--duration', values.duration) * 1000,
    warmupMs: nonNegativeNumber('--warmup', values.warmup) * 1000,
    requests: values.requests === undefined ? undefined : positiveInteger('--requests', values.requests),
    bodyBytes: nonNegativeNumber('--body-bytes', values['body-bytes']),
    threads: Math.min(positiveInteger('--threads', values.threads), connections),
    json: values.json,
  };
}

function positiveInteger(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not ${text}`);
  return n;
}

function positiveNumber(name: string, text: string): number {
  const n = Number(text);
  if (!(n > 0)) throw new Error(`${name} must be a positive number, not ${text}`);
  return n;
}

function nonNegativeNumber(name: string, text: string): number {
  const n = Number(text);
  if (!(n >= 0) || !Number.isFinite(n)) throw new Error(`${name} must be a number ≥ 0, not ${text}`);
  return n;
}

/** Splits n into `parts` shares that differ by at most one. */
function shares(n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));
}

export async function runSpdyLoad(options: Options): Promise<SpdyLoadResult> {
  const connectionShares = shares(options.connections, options.threads);
  const requestShares = options.requests === undefined ? undefined : shares(options.requests, options.threads);
  const workers = connectionShares.map((connections, i) => {
    const plan: WorkerPlan = {
      host: options.url.hostname,
      port: Number(options.url.port || 443),
      protocol: options.protocol,
      connections,
      streams: options.streams,
      path: options.url.pathname + options.url.search,
      method: options.bodyBytes > 0 ? 'POST' : 'GET',
      bodyBytes: options.bodyBytes,
      requests: requestShares?.[i],
    };
    return new Worker(new URL('./spdy-load-worker.ts', import.meta.url), { workerData: plan });
  });
  const send = (command: WorkerCommand): void => workers.forEach((worker) => worker.postMessage(command));
  try {
    await allReport(workers, 'ready', CONNECT_TIMEOUT_MS);
    const results = allReport(workers, 'result', options.requests === undefined ? options.warmupMs + options.durationMs + 60_000 : REQUESTS_MODE_TIMEOUT_MS);
    const cpuAtStart = process.cpuUsage();
    const startedAt = performance.now();
    send({ type: 'start' });
    const timed = options.requests === undefined ? await runWindow(send, options) : undefined;
    // Duration mode: the threads report after draining; requests mode: when their share is done.
    const reports = (await results) as Extract<WorkerReport, { type: 'result' }>[];
    const window = timed ?? { seconds: (performance.now() - startedAt) / 1000, cpu: process.cpuUsage(cpuAtStart) };
    const cpuCores = (window.cpu.user + window.cpu.system) / 1e6 / window.seconds;
    return summarize(options, reports.map((report) => report.result), window.seconds, cpuCores);
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/** Duration mode: warm-up, then the measured window; returns its length and the CPU used in it. */
async function runWindow(send: (command: WorkerCommand) => void, options: Options): Promise<{ seconds: number; cpu: NodeJS.CpuUsage }> {
  if (options.warmupMs > 0) await sleep(options.warmupMs);
  send({ type: 'measure' });
  const cpuAtStart = process.cpuUsage();
  await sleep(options.durationMs);
  send({ type: 'stop' });
  return { seconds: options.durationMs / 1000, cpu: process.cpuUsage(cpuAtStart) };
}

/** Resolves when every worker has sent a report of `type`; rejects on a failure or the timeout. */
function allReport(workers: readonly Worker[], type: 'ready' | 'result', timeoutMs: number): Promise<WorkerReport[]> {
  return new Promise((resolve, reject) => {
    const reports: WorkerReport[] = new Array(workers.length);
    let pending = workers.length;
    const timer = setTimeout(() => reject(new Error(`spdy-load: no ${type} from every thread within ${timeoutMs} ms`)), timeoutMs);
    const cleanups: (() => void)[] = [];
    const done = (error?: Error): void => {
      clearTimeout(timer);
      cleanups.forEach((cleanup) => cleanup());
      if (error === undefined) resolve(reports);
      else reject(error);
    };
    workers.forEach((worker, i) => {
      const onMessage = (report: WorkerReport): void => {
        if (report.type === 'failed') return done(new Error(`spdy-load: ${report.message}`));
        if (report.type !== type || reports[i] !== undefined) return;
        reports[i] = report;
        if (--pending === 0) done();
      };
      const onError = (error: Error): void => done(error);
      const onExit = (code: number): void => {
        if (reports[i] === undefined) done(new Error(`spdy-load: a thread exited (${code}) before its ${type} report`));
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      cleanups.push(() => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      });
    });
  });
}

function summarize(options: Options, results: readonly WorkerResult[], seconds: number, generatorCpuCores: number): SpdyLoadResult {
  const histogram = new LatencyHistogram();
  const statuses: Record<string, number> = {};
  let succeeded = 0;
  let errored = 0;
  let bodyBytes = 0;
  let openConnections = 0;
  for (const result of results) {
    histogram.add(LatencyHistogram.from(result.histogram));
    succeeded += result.succeeded;
    errored += result.errored;
    bodyBytes += result.bodyBytes;
    openConnections += result.openConnections;
    for (const [status, count] of Object.entries(result.statuses)) statuses[status] = (statuses[status] ?? 0) + count;
  }
  const ms = (micros: number): number => Math.round(micros) / 1000;
  return {
    protocol: options.protocol,
    connections: options.connections,
    streams: options.streams,
    threads: options.threads,
    mode: options.requests === undefined ? 'duration' : 'requests',
    seconds,
    succeeded,
    errored,
    statuses,
    requestsPerSecond: succeeded / seconds,
    bodyBytesPerSecond: bodyBytes / seconds,
    latencyMs: {
      mean: ms(histogram.meanMicros()),
      p50: ms(histogram.percentile(0.5)),
      p90: ms(histogram.percentile(0.9)),
      p99: ms(histogram.percentile(0.99)),
      max: ms(histogram.maxMicros),
    },
    openConnections,
    generatorCpuCores,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function report(result: SpdyLoadResult): string {
  const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(2);
  const statuses = Object.entries(result.statuses).map(([status, count]) => `${count} × ${status}`).join(', ') || 'none';
  return [
    `${result.protocol}: ${result.connections} connection(s) × ${result.streams} stream(s), ${result.threads} thread(s), ${result.seconds.toFixed(2)} s measured`,
    `requests: ${result.succeeded} succeeded (${statuses}), ${result.errored} errored`,
    `rate: ${result.requestsPerSecond.toFixed(0)} req/s, ${mib(result.bodyBytesPerSecond)} MiB/s of bodies`,
    `latency ms: mean ${result.latencyMs.mean}, p50 ${result.latencyMs.p50}, p90 ${result.latencyMs.p90}, p99 ${result.latencyMs.p99}, max ${result.latencyMs.max}`,
    `generator CPU: ${(result.generatorCpuCores * 100).toFixed(0)} % of one core; ${result.openConnections}/${result.connections} connections open at the end`,
  ].join('\n');
}

if (import.meta.main) {
  try {
    const options = parseOptions(process.argv.slice(2));
    const result = await runSpdyLoad(options);
    process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${report(result)}\n`);
    process.exitCode = result.succeeded > 0 ? 0 : 1;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  }
}
