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
import { best, loadRow, measureSideBySide, type Contender, type ScenarioContext } from '../lib/context.ts';
import { runH2load, type LoadFigures } from '../lib/load-runs.ts';
import { runToCompletion } from '../lib/processes.ts';
import { formatBytesPerSecond, type Ratio, type Row, type ScenarioResult } from '../lib/report.ts';
import { HELLO_MODULE, LOOPBACK, startNginx, startSpry, type RunningServer } from '../lib/servers.ts';

const H1_CONNECTIONS = 50;
const H2_CONNECTIONS = 4;
const H2_STREAMS = 25;
const SMALL_BYTES = 4 << 10;
const LARGE_BYTES = 256 << 20;
const TRANSFER_TIMEOUT_MS = 120_000;
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
type StaticRun = Map<string, { readonly small: LoadFigures; readonly largeBytesPerSecond: number }>;

export async function staticFiles(context: ScenarioContext): Promise<ScenarioResult> {
  const { plan, cert } = context;
  const root = await mkdtemp(join(tmpdir(), 'spry-bench-static-'));
  try {
    await writeFile(join(root, 'small.txt'), Buffer.alloc(SMALL_BYTES, 0x61));
    const large = await open(join(root, 'large.bin'), 'w');
    await large.truncate(LARGE_BYTES); // sparse: the page cache, not the disk, is measured
    await large.close();
    // Two rounds at most: six contenders must fit in about two minutes.
    const repeats = Math.min(plan.repeats, 2);
    const duration = Math.min(plan.durationSeconds, 4);
    const measureWays = (ways: readonly Way[]) => async (server: RunningServer): Promise<StaticRun> => {
      const run: StaticRun = new Map();
      for (const way of ways) {
        const shape = way.h2 ? { h1: false, connections: H2_CONNECTIONS, streams: H2_STREAMS } : { h1: true, connections: H1_CONNECTIONS, streams: 1 };
        const small = await runH2load(server, { url: `${server.origin}/static/small.txt`, ...shape, durationSeconds: duration, warmupSeconds: plan.warmupSeconds });
        if (small.failed > 0 || small.succeeded === 0) throw new Error(`${server.name}: ${small.failed} small-file requests failed over ${way.label}`);
        const curlArgs = ['-sk', way.h2 ? '--http2' : '--http1.1', '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{speed_download} %{http_version}', `${server.origin}/static/large.bin`];
        const { code, stdout, stderr } = await runToCompletion('curl', 'curl', curlArgs, TRANSFER_TIMEOUT_MS);
        const [status, size, speed, version] = stdout.trim().split(' ');
        if (code !== 0 || status !== '200' || Number(size) !== LARGE_BYTES || (version === '2') !== way.h2) throw new Error(`${server.name}: the large file came back over ${way.label} as ${stdout} (${stderr.slice(-300)})`);
        run.set(way.label, { small, largeBytesPerSecond: Number(speed) });
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
    const contenders: (Contender<StaticRun> & { readonly ways: readonly Way[] })[] = [
      { name: 'spry', start: spry('spry', false, false), measure: measureWays(PLAIN), ways: PLAIN },
      { name: 'spry --static-cache-paths 1', start: spry('spry (cache)', true, false), measure: measureWays(PLAIN), ways: PLAIN },
      { name: 'nginx', start: () => startNginx(root, { openFileCache: false }), measure: measureWays(PLAIN), ways: PLAIN },
      { name: 'nginx open_file_cache', start: () => startNginx(root, { openFileCache: true }), measure: measureWays(PLAIN), ways: PLAIN },
      { name: 'spry TLS --static-cache-paths 1', start: spry('spry TLS', true, true), measure: measureWays(TLS), ways: TLS },
      { name: 'nginx TLS open_file_cache', start: () => startNginx(root, { openFileCache: true, tls: cert }), measure: measureWays(TLS), ways: TLS },
    ];
    const runs = await measureSideBySide(context, contenders, repeats);

    const rate = (run: StaticRun, way: string): number => run.get(way)!.small.requestsPerSecond;
    const bestSmall = (i: number, way: string): LoadFigures => best(runs[i], (run) => rate(run, way)).get(way)!.small;
    const throughput = (i: number, way: string): number => Math.max(...runs[i].map((run) => run.get(way)!.largeBytesPerSecond));
    const rows: Row[] = [];
    const notes: string[] = [];
    contenders.forEach((contender, i) => {
      for (const way of contender.ways) {
        const small = bestSmall(i, way.label);
        const row = loadRow(`${contender.name}, ${way.label}`, small, runs[i].map((run) => run.get(way.label)!.small));
        const largeRuns = runs[i].map((run) => (run.get(way.label)!.largeBytesPerSecond / 2 ** 20).toFixed(0)).join(', ');
        rows.push({ ...row, headline: `${row.headline}; ${formatBytesPerSecond(throughput(i, way.label))} large`, details: `${row.details}; large MiB/s runs ${largeRuns}` });
        if (small.generatorCpuCores >= GENERATOR_BOUND_CORES) {
          notes.push(`${contender.name}, ${way.label}: h2load used ${small.generatorCpuCores.toFixed(2)} cores (its one thread's ceiling), the server ${small.serverCpuCores.toFixed(2)}: the generator may have set this rate, so the server can do more`);
        }
      }
    });
    const smallRatio = (label: string, spryIndex: number, nginxIndex: number, way: string): Ratio =>
      ({ label: `small-file req/s ${way}, ${label}`, value: bestSmall(spryIndex, way).requestsPerSecond / bestSmall(nginxIndex, way).requestsPerSecond, target: { kind: 'min', value: 0.5 } });
    const largeRatio = (label: string, spryIndex: number, nginxIndex: number, way: string): Ratio =>
      ({ label: `large-file MiB/s ${way}, ${label}`, value: throughput(spryIndex, way) / throughput(nginxIndex, way), target: { kind: 'min', value: 0.8 } });
    notes.push('nginx sends the large file over plain HTTP with sendfile (no copy through user space); node has no sendfile, so spry reads and writes it (over TLS both read and encrypt in user space)');
    notes.push('a 2-core machine: with one core for the generator, one server process each is the fair comparison (more nginx workers or spry --processes would share the generator\'s core)');
    return {
      id: '12',
      title: 'static files: spry vs nginx serving the same directory, one process each, plain HTTP/1.1 and TLS (h2, https/1.1)',
      shape: `${SMALL_BYTES / 1024} KiB file: h2load, HTTP/1.1 ${H1_CONNECTIONS} keep-alive connections, h2 ${H2_CONNECTIONS} connections × ${H2_STREAMS} streams, ${plan.warmupSeconds} s warm-up + ${duration} s; ${LARGE_BYTES / 2 ** 20} MiB file: one curl stream; best of ${repeats} alternating runs; nginx: worker_processes 1, sendfile, keepalive_requests 1000000, access_log off; spry: one process, --disable-logging`,
      rows,
      ratios: [
        smallRatio('spry ÷ nginx (no caches)', 0, 2, 'http/1.1'),
        smallRatio('spry --static-cache-paths 1 ÷ nginx open_file_cache', 1, 3, 'http/1.1'),
        largeRatio('spry ÷ nginx (sendfile)', 0, 2, 'http/1.1'),
        smallRatio('spry ÷ nginx, both cached', 4, 5, 'h2'),
        smallRatio('spry ÷ nginx, both cached', 4, 5, 'https/1.1'),
        largeRatio('spry ÷ nginx', 4, 5, 'h2'),
        largeRatio('spry ÷ nginx', 4, 5, 'https/1.1'),
      ],
      notes,
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
