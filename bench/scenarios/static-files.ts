// Scenario 12: static files, spry against nginx serving the same directory, one process each
// (nginx: worker_processes 1, no master; spry: no workers), keep-alive on both, the same load
// generators. Requests per second for a 4 KiB file (h2load) and one stream's throughput for a
// 256 MiB file (curl): over plain HTTP/1.1, spry with and without --static-cache-paths 1 against
// nginx with and without open_file_cache (1 s); and over TLS (the one-port edge: h2 and
// https/1.1 by ALPN), both with their caches, where nginx's sendfile cannot work (no kTLS) and it
// reads and encrypts in user space as spry does. Goals (issue 16): at least 0.5x nginx's
// requests per second, 0.8x its throughput.

import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRow, measureSideBySide, median, type Contender, type ScenarioContext } from '../lib/context.ts';
import { runH2load, type LoadFigures } from '../lib/load-runs.ts';
import { groupCpuSeconds, runToCompletion } from '../lib/processes.ts';
import { formatBytesPerSecond, formatRate, formatRatio, type Ratio, type Row, type ScenarioResult } from '../lib/report.ts';
import { HELLO_MODULE, LOOPBACK, startNginx, startSpry, type RunningServer } from '../lib/servers.ts';

const H1_CONNECTIONS = 50;
const H2_CONNECTIONS = 4;
const H2_STREAMS = 25;
const SMALL_BYTES = 4 << 10;
const LARGE_BYTES = 256 << 20;
const TRANSFER_TIMEOUT_MS = 120_000;
/** Rounds per contender, and each small-file run's length: nine load runs a round must fit in about four minutes with five of them. */
const ROUNDS = 5;
const SMALL = 'small-file req/s';
const LARGE = 'large-file MiB/s';
const RUN_SECONDS = 2;
const WARMUP_SECONDS = 1;
/** A generator past this share of a core may be what sets the rate (one h2load thread). */
const GENERATOR_BOUND_CORES = 0.9;

/** One way of asking: a protocol for the small-file load and for the large file's curl. */
interface Way {
  readonly label: string;
  readonly h2: boolean;
}

const PLAIN: readonly Way[] = [{ label: 'http/1.1', h2: false }];
const TLS: readonly Way[] = [{ label: 'h2', h2: true }, { label: 'https/1.1', h2: false }];

/** Per way: the small file's load run and the large file's bytes per second. */
type StaticRun = Map<string, { readonly small: LoadFigures; readonly largeBytesPerSecond: number; readonly largeCpuMsPerMiB: number }>;

/** CPU per request at the run's steady rate (its cores ÷ its req/s, the warm-up's share included alike), in µs. */
function steadyMicrosPerRequest(run: LoadFigures): number {
  return (run.serverCpuCores / run.requestsPerSecond) * 1e6;
}

/** The run with the median req/s (for its latency and CPU figures). */
function medianRun(runs: readonly LoadFigures[]): LoadFigures {
  const sorted = [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  return sorted[(sorted.length - 1) >> 1];
}

/** `median (min–max)`, to `digits` places. */
function spread(values: readonly number[], digits: number): string {
  const text = (value: number): string => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return `${text(median(values))} (${text(Math.min(...values))}–${text(Math.max(...values))})`;
}

export async function staticFiles(context: ScenarioContext): Promise<ScenarioResult> {
  const { plan, cert } = context;
  const root = await mkdtemp(join(tmpdir(), 'spry-bench-static-'));
  try {
    await writeFile(join(root, 'small.txt'), Buffer.alloc(SMALL_BYTES, 0x61));
    const large = await open(join(root, 'large.bin'), 'w');
    await large.truncate(LARGE_BYTES); // sparse: the page cache, not the disk, is measured
    await large.close();
    // Short runs, many rounds: each pair (spry, then its nginx peer) runs back to back, and
    // every second round goes backwards so neither side always goes first; medians, not bests.
    const rounds = plan.quick ? 1 : ROUNDS;
    const duration = Math.min(plan.durationSeconds, RUN_SECONDS);
    const warmup = Math.min(plan.warmupSeconds, WARMUP_SECONDS);
    const measureWays = (ways: readonly Way[]) => async (server: RunningServer): Promise<StaticRun> => {
      const run: StaticRun = new Map();
      for (const way of ways) {
        const shape = way.h2 ? { h1: false, connections: H2_CONNECTIONS, streams: H2_STREAMS } : { h1: true, connections: H1_CONNECTIONS, streams: 1 };
        const small = await runH2load(server, { url: `${server.origin}/static/small.txt`, ...shape, durationSeconds: duration, warmupSeconds: warmup });
        if (small.failed > 0 || small.succeeded === 0) throw new Error(`${server.name}: ${small.failed} small-file requests failed over ${way.label}`);
        const curlArgs = ['-sk', way.h2 ? '--http2' : '--http1.1', '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{speed_download} %{http_version}', `${server.origin}/static/large.bin`];
        const cpuBefore = groupCpuSeconds(server.process.pid);
        const { code, stdout, stderr } = await runToCompletion('curl', 'curl', curlArgs, TRANSFER_TIMEOUT_MS);
        const largeCpuMsPerMiB = ((groupCpuSeconds(server.process.pid) - cpuBefore) * 1000) / (LARGE_BYTES / 2 ** 20);
        const [status, size, speed, version] = stdout.trim().split(' ');
        if (code !== 0 || status !== '200' || Number(size) !== LARGE_BYTES || (version === '2') !== way.h2) throw new Error(`${server.name}: the large file came back over ${way.label} as ${stdout} (${stderr.slice(-300)})`);
        run.set(way.label, { small, largeBytesPerSecond: Number(speed), largeCpuMsPerMiB });
      }
      return run;
    };
    const spry = (name: string, cache: boolean, tls: boolean) => () => startSpry({
      name,
      args: [
        ...(tls ? ['--https2', `addr=${LOOPBACK}:0,cert=${cert.certPath},key=${cert.keyPath}`] : ['--http', `${LOOPBACK}:0`]),
        '--disable-logging', '--static-map', `/static=${root}`, ...(cache ? ['--static-cache-paths', '1'] : []),
      ],
      module: HELLO_MODULE,
    });
    // Side by side in pairs: spry at an even index, its nginx peer just after it.
    const contenders: (Contender<StaticRun> & { readonly ways: readonly Way[] })[] = [
      { name: 'spry', start: spry('spry', false, false), measure: measureWays(PLAIN), ways: PLAIN },
      { name: 'nginx', start: () => startNginx(root, { openFileCache: false }), measure: measureWays(PLAIN), ways: PLAIN },
      { name: 'spry --static-cache-paths 1', start: spry('spry (cache)', true, false), measure: measureWays(PLAIN), ways: PLAIN },
      { name: 'nginx open_file_cache', start: () => startNginx(root, { openFileCache: true }), measure: measureWays(PLAIN), ways: PLAIN },
      { name: 'spry TLS --static-cache-paths 1', start: spry('spry TLS', true, true), measure: measureWays(TLS), ways: TLS },
      { name: 'nginx TLS open_file_cache', start: () => startNginx(root, { openFileCache: true, tls: cert }), measure: measureWays(TLS), ways: TLS },
    ];
    const runs = await measureSideBySide(context, contenders, rounds, true);

    const smalls = (i: number, way: string): LoadFigures[] => runs[i].map((run) => run.get(way)!.small);
    const rates = (i: number, way: string): number[] => smalls(i, way).map((small) => small.requestsPerSecond);
    const cpuMicros = (i: number, way: string): number[] => smalls(i, way).map(steadyMicrosPerRequest);
    const largeRates = (i: number, way: string): number[] => runs[i].map((run) => run.get(way)!.largeBytesPerSecond);
    const largeCpu = (i: number, way: string): number[] => runs[i].map((run) => run.get(way)!.largeCpuMsPerMiB);
    const rows: Row[] = [];
    const notes: string[] = [];
    contenders.forEach((contender, i) => {
      for (const way of contender.ways) {
        const middle = medianRun(smalls(i, way.label));
        const row = loadRow(`${contender.name}, ${way.label}`, middle, smalls(i, way.label));
        const large = largeRates(i, way.label);
        rows.push({
          ...row,
          headline: `${formatRate(median(rates(i, way.label)))}; ${formatBytesPerSecond(median(large))} large`,
          details: `req/s ${spread(rates(i, way.label), 0)}; CPU ${spread(cpuMicros(i, way.label), 1)} µs/req; large MiB/s ${spread(large.map((rate) => rate / 2 ** 20), 0)}, CPU ${spread(largeCpu(i, way.label), 2)} ms/MiB; the median run: ${row.details.replace(/ \(runs: .*\)$/, '')}`,
        });
        for (const small of smalls(i, way.label)) {
          if (small.generatorCpuCores < GENERATOR_BOUND_CORES) continue;
          notes.push(`${contender.name}, ${way.label}: h2load used ${small.generatorCpuCores.toFixed(2)} cores in a run (its one thread's ceiling), the server ${small.serverCpuCores.toFixed(2)}: the generator may have set that run's rate`);
          break;
        }
      }
    });
    /** spry's median ÷ its peer's, and the same ratio round by round (the pair ran back to back) as its spread. */
    const ratioOf = (kind: string, figures: (i: number, way: string) => number[], spryIndex: number, way: string, target: number, label: string): Ratio => {
      const spryFigures = figures(spryIndex, way);
      const peerFigures = figures(spryIndex + 1, way);
      const byRound = spryFigures.map((figure, round) => figure / peerFigures[round]);
      const cpuFigures = kind === SMALL ? cpuMicros : largeCpu;
      const cpu = `; CPU per ${kind === SMALL ? 'request' : 'MiB'} nginx ÷ spry ${formatRatio(median(cpuFigures(spryIndex + 1, way)) / median(cpuFigures(spryIndex, way)))}`;
      notes.push(`${kind} ${way}, ${label}, round by round: ${spread(byRound, 2)}${cpu}`);
      return { label: `${kind} ${way}, ${label}`, value: median(spryFigures) / median(peerFigures), target: { kind: 'min', value: target } };
    };
    const smallRatio = (label: string, spryIndex: number, way: string): Ratio => ratioOf(SMALL, rates, spryIndex, way, 0.5, label);
    const largeRatio = (label: string, spryIndex: number, way: string): Ratio => ratioOf(LARGE, largeRates, spryIndex, way, 0.8, label);
    const ratios = [
      smallRatio('spry ÷ nginx (no caches)', 0, 'http/1.1'),
      smallRatio('spry --static-cache-paths 1 ÷ nginx open_file_cache', 2, 'http/1.1'),
      largeRatio('spry ÷ nginx (sendfile)', 0, 'http/1.1'),
      smallRatio('spry ÷ nginx, both cached', 4, 'h2'),
      smallRatio('spry ÷ nginx, both cached', 4, 'https/1.1'),
      largeRatio('spry ÷ nginx', 4, 'h2'),
      largeRatio('spry ÷ nginx', 4, 'https/1.1'),
    ];
    const negotiated = (i: number): string => [...new Set(TLS.flatMap((way) => smalls(i, way.label).map((small) => small.tls ?? '?')))].join(', ');
    notes.push(negotiated(4) === negotiated(5) ? `TLS: both negotiated ${negotiated(4)} with h2load` : `TLS DIFFERS: spry ${negotiated(4)}, nginx ${negotiated(5)} (the crypto costs are not alike)`);
    notes.push('nginx sends the large file over plain HTTP with sendfile (no copy through user space); node has no sendfile, so spry reads and writes it (over TLS both read and encrypt in user space)');
    notes.push('a 2-core machine: with one core for the generator, one server process each is the fair comparison (more nginx workers or spry --processes would share the generator\'s core)');
    return {
      id: '12',
      title: 'static files: spry vs nginx serving the same directory, one process each, plain HTTP/1.1 and TLS (h2, https/1.1)',
      shape: `${SMALL_BYTES / 1024} KiB file: h2load, HTTP/1.1 ${H1_CONNECTIONS} keep-alive connections, h2 ${H2_CONNECTIONS} connections × ${H2_STREAMS} streams, ${warmup} s warm-up + ${duration} s; ${LARGE_BYTES / 2 ** 20} MiB file: one curl stream; medians of ${rounds} rounds, each pair back to back, every second round reversed (min–max in the details); CPU µs/req over the steady state (server cores ÷ req/s); nginx: worker_processes 1, sendfile, keepalive_requests 1000000, access_log off; spry: one process, --disable-logging`,
      rows,
      ratios,
      notes,
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
