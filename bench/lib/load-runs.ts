// Running a load generator against a server and reading its figures: h2load (scenarios 2, 3,
// 6), spdy-load (1, 4 and the generator's ceiling) and page-load (7). Each run also reports the
// CPU the server used meanwhile, in cores: about 1.0 means the server's one thread was
// saturated, which is the sign that the server, not the generator, set the pace.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PageLoadResult } from '../load/page-load.ts';
import type { SpdyLoadResult } from '../load/spdy-load.ts';
import { LatencyHistogram } from './histogram.ts';
import { groupCpuSeconds, runToCompletion } from './processes.ts';
import { BENCH, NODE, ROOT, type RunningServer } from './servers.ts';

export interface LoadFigures {
  readonly generator: 'h2load' | 'spdy-load';
  readonly protocol: string;
  /** h2load over TLS: the version and cipher it negotiated (e.g. "TLSv1.3 TLS_AES_256_GCM_SHA384"). */
  readonly tls?: string;
  readonly connections: number;
  readonly streams: number;
  readonly seconds: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly requestsPerSecond: number;
  readonly bodyBytesPerSecond?: number;
  readonly latencyMs: { readonly mean: number; readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
  /** Server CPU over the whole run (warm-up included), in cores. */
  readonly serverCpuCores: number;
  /** Server CPU seconds (utime + stime) over the whole run, warm-up included. */
  readonly serverCpuSeconds: number;
  /** Generator CPU in cores (h2load: over the whole run; spdy-load: over its window). */
  readonly generatorCpuCores: number;
}

/** Slack on top of a run's planned length before it counts as stuck and is killed. */
const RUN_SLACK_MS = 60_000;

export interface H2loadOptions {
  readonly url: string;
  readonly h1: boolean;
  readonly connections: number;
  /** Concurrent streams per connection (-m); 1 for HTTP/1.1. */
  readonly streams: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  /** Instead of a duration: send this many requests in all (-n), with no warm-up. */
  readonly requests?: number;
}

export async function runH2load(server: RunningServer, options: H2loadOptions): Promise<LoadFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'spry-bench-h2load-'));
  const logFile = join(dir, 'requests.log');
  try {
    const args = [
      ...(options.h1 ? ['--h1'] : []),
      '-c', String(options.connections),
      '-m', String(options.streams),
      ...(options.requests !== undefined ? ['-n', String(options.requests)] : ['-D', String(options.durationSeconds), '--warm-up-time', String(options.warmupSeconds)]),
      '--log-file', logFile,
      options.url,
    ];
    const cpuBefore = groupCpuSeconds(server.process.pid);
    const started = performance.now();
    // bash's `times` prints the CPU its children (h2load) used, on the last line.
    const { code, stdout, stderr } = await runToCompletion('h2load', 'bash', ['-c', 'h2load "$@"; status=$?; times >&2; exit $status', 'h2load', ...args], (options.requests !== undefined ? 5 * 60 : options.durationSeconds + options.warmupSeconds) * 1000 + RUN_SLACK_MS);
    const wallSeconds = (performance.now() - started) / 1000;
    const serverCpuSeconds = groupCpuSeconds(server.process.pid) - cpuBefore;
    const serverCpuCores = serverCpuSeconds / wallSeconds;
    if (code !== 0) throw new Error(`h2load exited ${code}:\n${stdout.slice(-1500)}\n${stderr.slice(-500)}`);
    const finished = /finished in ([\d.]+)(m?s), ([\d.]+) req\/s/.exec(stdout); // "998.12ms" under a second
    const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(stdout);
    const protocol = /Application protocol: (\S+)/.exec(stdout);
    const tls = /TLS Protocol: (\S+)\s+Cipher: (\S+)/.exec(stdout);
    if (finished === null || requests === null) throw new Error(`h2load printed no figures:\n${stdout.slice(-1500)}`);
    const latencies = await readLatencies(logFile);
    return {
      generator: 'h2load',
      protocol: protocol?.[1] ?? (options.h1 ? 'http/1.1' : 'h2c'),
      ...(tls === null ? {} : { tls: `${tls[1]} ${tls[2]}` }),
      connections: options.connections,
      streams: options.streams,
      seconds: options.requests === undefined ? options.durationSeconds : Number(finished[1]) / (finished[2] === 'ms' ? 1000 : 1),
      succeeded: Number(requests[4]),
      failed: Number(requests[5]) + Number(requests[6]) + Number(requests[7]),
      requestsPerSecond: Number(finished[3]),
      latencyMs: latencies,
      serverCpuCores,
      serverCpuSeconds,
      generatorCpuCores: childCpuSeconds(stderr) / wallSeconds,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** h2load's --log-file: one line per measured request, `start<TAB>status<TAB>elapsed µs`. */
async function readLatencies(logFile: string): Promise<LoadFigures['latencyMs']> {
  const histogram = new LatencyHistogram();
  const text = await readFile(logFile, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const tab = line.lastIndexOf('\t');
    if (tab > 0) histogram.record(Number(line.slice(tab + 1)));
  }
  const ms = (micros: number): number => Math.round(micros) / 1000;
  return {
    mean: ms(histogram.meanMicros()),
    p50: ms(histogram.percentile(0.5)),
    p90: ms(histogram.percentile(0.9)),
    p99: ms(histogram.percentile(0.99)),
    max: ms(histogram.maxMicros),
  };
}

/** Sums the second line of bash's `times` ("0m1.234s 0m0.567s": children's user, system). */
function childCpuSeconds(stderr: string): number {
  const lines = stderr.trim().split('\n');
  const match = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(lines[lines.length - 1] ?? '');
  if (match === null) return 0;
  return Number(match[1]) * 60 + Number(match[2]) + Number(match[3]) * 60 + Number(match[4]);
}

export interface SpdyLoadOptions {
  readonly url: string;
  readonly protocol?: string;
  readonly connections: number;
  readonly streams: number;
  /** Duration mode … */
  readonly durationSeconds?: number;
  readonly warmupSeconds?: number;
  /** … or requests mode. */
  readonly requests?: number;
  readonly bodyBytes?: number;
}

export async function runSpdyLoad(server: RunningServer, options: SpdyLoadOptions): Promise<LoadFigures & { readonly raw: SpdyLoadResult }> {
  const args = [
    join(BENCH, 'load/spdy-load.ts'),
    '--json',
    '-p', options.protocol ?? 'spdy/3.1',
    '-c', String(options.connections),
    '-m', String(options.streams),
    ...(options.requests !== undefined ? ['-n', String(options.requests)] : ['-D', String(options.durationSeconds ?? 10), '--warmup', String(options.warmupSeconds ?? 0)]),
    ...(options.bodyBytes !== undefined ? ['-d', String(options.bodyBytes)] : []),
    options.url,
  ];
  const planned = options.requests !== undefined ? 5 * 60_000 : ((options.durationSeconds ?? 10) + (options.warmupSeconds ?? 0)) * 1000;
  const cpuBefore = groupCpuSeconds(server.process.pid);
  const started = performance.now();
  const { code, stdout, stderr } = await runToCompletion('spdy-load', NODE, args, planned + RUN_SLACK_MS, { cwd: ROOT });
  const wallSeconds = (performance.now() - started) / 1000;
  const serverCpuSeconds = groupCpuSeconds(server.process.pid) - cpuBefore;
  const serverCpuCores = serverCpuSeconds / wallSeconds;
  const line = stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`spdy-load exited ${code} without figures:\n${stderr.slice(-1500)}`);
  const raw = JSON.parse(line) as SpdyLoadResult;
  return {
    generator: 'spdy-load',
    protocol: raw.protocol,
    connections: raw.connections,
    streams: raw.streams,
    seconds: raw.seconds,
    succeeded: raw.succeeded,
    failed: raw.errored + Object.entries(raw.statuses).reduce((sum, [status, count]) => sum + (status.startsWith('2') ? 0 : count), 0),
    requestsPerSecond: raw.requestsPerSecond,
    bodyBytesPerSecond: raw.bodyBytesPerSecond,
    latencyMs: raw.latencyMs,
    serverCpuCores,
    serverCpuSeconds,
    generatorCpuCores: raw.generatorCpuCores,
    raw,
  };
}

export interface PageLoadOptions {
  /** The page's URL (through a delay proxy, for scenario 7). */
  readonly url: string;
  readonly protocol: 'spdy/3.1' | 'h2';
  readonly loads: number;
  readonly warmupLoads: number;
}

export type PageLoadFigures = PageLoadResult & {
  /** Server CPU over the whole run (warm-up included), in cores. */
  readonly serverCpuCores: number;
};

/** Slack per load on top of the run's planned length before it counts as stuck. */
const PAGE_LOAD_SLACK_MS = 2_000;

export async function runPageLoad(server: RunningServer, options: PageLoadOptions): Promise<PageLoadFigures> {
  const args = [join(BENCH, 'load/page-load.ts'), '--json', '-p', options.protocol, '-n', String(options.loads), '--warmup', String(options.warmupLoads), options.url];
  const cpuBefore = groupCpuSeconds(server.process.pid);
  const started = performance.now();
  const { code, stdout, stderr } = await runToCompletion('page-load', NODE, args, (options.loads + options.warmupLoads) * PAGE_LOAD_SLACK_MS + RUN_SLACK_MS, { cwd: ROOT });
  const wallSeconds = (performance.now() - started) / 1000;
  const serverCpuSeconds = groupCpuSeconds(server.process.pid) - cpuBefore;
  const serverCpuCores = serverCpuSeconds / wallSeconds;
  const line = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`page-load exited ${code} without figures:\n${stderr.slice(-1500)}`);
  return { ...(JSON.parse(line) as PageLoadResult), serverCpuCores };
}
