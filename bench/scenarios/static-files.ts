// Scenario 12: static files, spry against nginx serving the same directory over plain HTTP/1.1:
// requests per second for a 4 KiB file (h2load --h1, keep-alive) and one stream's throughput for
// a 256 MiB file (curl). spry with and without --static-cache-paths 1, nginx with and without
// open_file_cache (1 s), so each cache is compared with the other. Goals (issue 16): at least
// 0.5x nginx's requests per second, 0.8x its throughput.

import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { best, loadRow, measureSideBySide, type Contender, type ScenarioContext } from '../lib/context.ts';
import { runH2load, type LoadFigures } from '../lib/load-runs.ts';
import { runToCompletion } from '../lib/processes.ts';
import { formatBytesPerSecond, type ScenarioResult } from '../lib/report.ts';
import { HELLO_MODULE, LOOPBACK, startNginx, startSpry, type RunningServer } from '../lib/servers.ts';

const CONNECTIONS = 50;
const SMALL_BYTES = 4 << 10;
const LARGE_BYTES = 256 << 20;
const TRANSFER_TIMEOUT_MS = 120_000;

interface StaticRun {
  readonly small: LoadFigures;
  readonly largeBytesPerSecond: number;
}

export async function staticFiles(context: ScenarioContext): Promise<ScenarioResult> {
  const { plan } = context;
  const root = await mkdtemp(join(tmpdir(), 'spry-bench-static-'));
  try {
    await writeFile(join(root, 'small.txt'), Buffer.alloc(SMALL_BYTES, 0x61));
    const large = await open(join(root, 'large.bin'), 'w');
    await large.truncate(LARGE_BYTES); // sparse: the page cache, not the disk, is measured
    await large.close();
    // Two rounds at most: four contenders must fit in about a minute and a half.
    const repeats = Math.min(plan.repeats, 2);
    const duration = Math.min(plan.durationSeconds, 4);
    const measure = async (server: RunningServer): Promise<StaticRun> => {
      const small = await runH2load(server, { url: `${server.origin}/static/small.txt`, h1: true, connections: CONNECTIONS, streams: 1, durationSeconds: duration, warmupSeconds: plan.warmupSeconds });
      if (small.failed > 0 || small.succeeded === 0) throw new Error(`${server.name}: ${small.failed} small-file requests failed`);
      const { code, stdout, stderr } = await runToCompletion('curl', 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{speed_download}', `${server.origin}/static/large.bin`], TRANSFER_TIMEOUT_MS);
      const [status, size, speed] = stdout.trim().split(' ');
      if (code !== 0 || status !== '200' || Number(size) !== LARGE_BYTES) throw new Error(`${server.name}: the large file came back as ${stdout} (${stderr.slice(-300)})`);
      return { small, largeBytesPerSecond: Number(speed) };
    };
    const spry = (cache: boolean) => () => startSpry({
      name: cache ? 'spry (--static-cache-paths 1)' : 'spry',
      args: ['--http', `${LOOPBACK}:0`, '--disable-logging', '--static-map', `/static=${root}`, ...(cache ? ['--static-cache-paths', '1'] : [])],
      module: HELLO_MODULE,
    });
    const names = ['spry', 'spry --static-cache-paths 1', 'nginx', 'nginx open_file_cache'];
    const contenders: Contender<StaticRun>[] = [
      { name: names[0], start: spry(false), measure },
      { name: names[1], start: spry(true), measure },
      { name: names[2], start: () => startNginx(root, false), measure },
      { name: names[3], start: () => startNginx(root, true), measure },
    ];
    const runs = await measureSideBySide(context, contenders, repeats);
    const rate = (run: StaticRun): number => run.small.requestsPerSecond;
    const throughputOf = (variant: StaticRun[]): number => Math.max(...variant.map((run) => run.largeBytesPerSecond));
    const bests = runs.map((variant) => best(variant, rate));
    const rows = names.map((name, i) => {
      const row = loadRow(name, bests[i].small, runs[i].map((run) => run.small));
      return { ...row, headline: `${row.headline}; ${formatBytesPerSecond(throughputOf(runs[i]))} large`, details: `${row.details}; large MiB/s runs ${runs[i].map((run) => (run.largeBytesPerSecond / 2 ** 20).toFixed(0)).join(', ')}` };
    });
    return {
      id: '12',
      title: 'static files over HTTP/1.1: spry vs nginx serving the same directory',
      shape: `${SMALL_BYTES / 1024} KiB file: ${CONNECTIONS} keep-alive connections (h2load --h1), ${plan.warmupSeconds} s warm-up + ${duration} s; ${LARGE_BYTES / 2 ** 20} MiB file: one curl stream; best of ${repeats} alternating runs; nginx: 1 worker, sendfile`,
      rows,
      ratios: [
        { label: 'small-file req/s, spry ÷ nginx (no caches)', value: rate(bests[0]) / rate(bests[2]), target: { kind: 'min', value: 0.5 } },
        { label: 'small-file req/s, spry --static-cache-paths 1 ÷ nginx open_file_cache', value: rate(bests[1]) / rate(bests[3]), target: { kind: 'min', value: 0.5 } },
        { label: 'large-file MiB/s, spry ÷ nginx', value: throughputOf(runs[0]) / throughputOf(runs[2]), target: { kind: 'min', value: 0.8 } },
      ],
      notes: [],
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
