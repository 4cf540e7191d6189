// Scenario 4: bulk throughput over SPDY/3.1, one stream on one connection, each way: an upload
// of `transferBytes` to POST /upload (the app reads and counts it) and a download of as many
// bytes from GET /download (the app writes 64 KiB pieces). The ceiling is raw TLS between two
// Node processes moving the same bytes the same way (bench/servers/raw-tls.ts).

import { join } from 'node:path';
import { measureSideBySide, type Contender, type ScenarioContext } from '../lib/context.ts';
import { runSpdyLoad } from '../lib/load-runs.ts';
import { runToCompletion } from '../lib/processes.ts';
import { formatBytes, formatBytesPerSecond, type ScenarioResult } from '../lib/report.ts';
import { BENCH, HELLO_MODULE, NODE, ROOT, startScriptServer, startSpry, spryTlsArgs, type RunningServer } from '../lib/servers.ts';

interface Transfer {
  readonly upload: number[];
  readonly download: number[];
}

const TRANSFER_TIMEOUT_MS = 5 * 60_000;

export async function throughput(context: ScenarioContext): Promise<ScenarioResult> {
  const { plan, cert } = context;
  const bytes = plan.transferBytes;
  const repeats = Math.max(plan.repeats, plan.quick ? 1 : 3);
  const spdy = async (server: RunningServer): Promise<Transfer> => {
    const upload = await runSpdyLoad(server, { url: `${server.origin}/upload`, connections: 1, streams: 1, requests: 1, bodyBytes: bytes });
    const download = await runSpdyLoad(server, { url: `${server.origin}/download?n=${bytes}`, connections: 1, streams: 1, requests: 1 });
    for (const run of [upload, download]) if (run.failed > 0 || run.succeeded !== 1) throw new Error(`a SPDY transfer failed: ${JSON.stringify(run.raw)}`);
    return { upload: [upload.bodyBytesPerSecond ?? 0], download: [download.bodyBytesPerSecond ?? 0] };
  };
  const raw = async (server: RunningServer): Promise<Transfer> => {
    const rate = async (direction: 'upload' | 'download'): Promise<number> => {
      const { code, stdout, stderr } = await runToCompletion('tls-throughput', NODE, [join(BENCH, 'load/tls-throughput.ts'), direction, String(bytes), `${server.origin}/`], TRANSFER_TIMEOUT_MS, { cwd: ROOT });
      if (code !== 0) throw new Error(`tls-throughput ${direction} exited ${code}: ${stderr.slice(-500)}`);
      return (JSON.parse(stdout.trim()) as { bytesPerSecond: number }).bytesPerSecond;
    };
    return { upload: [await rate('upload')], download: [await rate('download')] };
  };
  const contenders: Contender<Transfer>[] = [
    { name: 'spry (SPDY/3.1)', start: () => startSpry({ args: spryTlsArgs(cert), module: HELLO_MODULE }), measure: spdy },
    { name: 'raw TLS (ceiling)', start: () => startScriptServer('raw TLS', NODE, 'raw-tls.ts', cert), measure: raw },
  ];
  const [spryRuns, rawRuns] = await measureSideBySide(context, contenders, repeats);
  const bestOf = (runs: Transfer[], way: keyof Transfer): number => Math.max(...runs.flatMap((run) => run[way]));
  const list = (runs: Transfer[], way: keyof Transfer): string => runs.flatMap((run) => run[way]).map((rate) => (rate / 2 ** 20).toFixed(0)).join(', ');
  const row = (server: string, runs: Transfer[]) => ({
    server,
    headline: `↑ ${formatBytesPerSecond(bestOf(runs, 'upload'))}  ↓ ${formatBytesPerSecond(bestOf(runs, 'download'))}`,
    details: `runs MiB/s ↑ ${list(runs, 'upload')}; ↓ ${list(runs, 'download')}`,
    figures: { uploadBytesPerSecond: bestOf(runs, 'upload'), downloadBytesPerSecond: bestOf(runs, 'download'), runs },
  });
  return {
    id: '4',
    title: 'Upload and download throughput over SPDY/3.1 vs raw TLS between two Node processes',
    shape: `${formatBytes(bytes)} each way, 1 connection, 1 stream; best of ${repeats} alternating runs; spry's defaults (1 MiB stream window, 16 MiB session window, 16 KiB DATA frames)`,
    rows: [row('spry (SPDY/3.1)', spryRuns), row('raw TLS (ceiling)', rawRuns)],
    ratios: [
      { label: 'upload MiB/s, spry ÷ raw TLS', value: bestOf(spryRuns, 'upload') / bestOf(rawRuns, 'upload'), target: { kind: 'min', value: 0.5 } },
      { label: 'download MiB/s, spry ÷ raw TLS', value: bestOf(spryRuns, 'download') / bestOf(rawRuns, 'download'), target: { kind: 'min', value: 0.5 } },
    ],
    notes: [],
  };
}
