// Scenario 11: WebSocket echo through spry's forwarding (`--http --http-to` a `ws` server) vs
// straight to that `ws` server: round trips per second with small messages on 8 WebSockets, and
// payload bytes per second with 64 KiB messages on one. Through spry over HTTP/1.1 (the `ws`
// client) and over h2c (an RFC 8441 client, bench/load/ws-echo.ts); the `ws` server speaks
// HTTP/1.1 only, so its row is the ceiling for both.

import { join } from 'node:path';
import { measureSideBySide, type Contender, type ScenarioContext } from '../lib/context.ts';
import { runToCompletion } from '../lib/processes.ts';
import { formatBytesPerSecond, type ScenarioResult } from '../lib/report.ts';
import { BENCH, LOOPBACK, NODE, ROOT, startScriptServer, startSpry, type RunningServer } from '../lib/servers.ts';

const SMALL = { connections: 8, bytes: 32 };
const LARGE = { connections: 1, bytes: 64 << 10 };
/** Short runs, two rounds: the scenario stays under a minute. */
const SECONDS = { full: 3, quick: 1 };

interface Echoes {
  readonly roundTripsPerSecond: number;
  readonly bytesPerSecond: number;
}

export async function websocket(context: ScenarioContext): Promise<ScenarioResult> {
  const { plan, cert } = context;
  const seconds = plan.quick ? SECONDS.quick : SECONDS.full;
  const repeats = plan.quick ? 1 : 2;
  let backend: RunningServer | undefined;
  const run = async (mode: 'h1' | 'h2', port: number, shape: { connections: number; bytes: number }): Promise<number[]> => {
    const args = [join(BENCH, 'load/ws-echo.ts'), mode, `http://${LOOPBACK}:${port}/echo`, '-c', String(shape.connections), '-s', String(shape.bytes), '-D', String(seconds), '--warmup', '1'];
    const { code, stdout, stderr } = await runToCompletion('ws-echo load', NODE, args, 60_000, { cwd: ROOT });
    if (code !== 0) throw new Error(`ws-echo ${mode} exited ${code}: ${stderr.slice(-500)}`);
    const figures = JSON.parse(stdout.trim()) as Echoes;
    return [figures.roundTripsPerSecond, figures.bytesPerSecond];
  };
  const measure = (mode: 'h1' | 'h2') => async (server: RunningServer): Promise<Echoes> => {
    const [roundTripsPerSecond] = await run(mode, server.port, SMALL);
    const [, bytesPerSecond] = await run(mode, server.port, LARGE);
    return { roundTripsPerSecond, bytesPerSecond };
  };
  const spryInFront = (name: string) => (): Promise<RunningServer> =>
    startSpry({ name, args: ['--http', `${LOOPBACK}:0`, '--http-to', `http://${LOOPBACK}:${backend!.port}`] });
  const contenders: Contender<Echoes>[] = [
    { name: 'ws, straight', start: async () => (backend = await startScriptServer('ws echo', NODE, 'ws-echo.ts', cert)), measure: measure('h1') },
    { name: 'spry → ws, HTTP/1.1', start: spryInFront('spry h1'), measure: measure('h1') },
    { name: 'spry → ws, h2c (RFC 8441)', start: spryInFront('spry h2'), measure: measure('h2') },
  ];
  const runs = await measureSideBySide(context, contenders, repeats);
  const bestOf = (list: Echoes[], key: keyof Echoes): number => Math.max(...list.map((figures) => figures[key]));
  const rows = contenders.map((contender, i) => ({
    server: contender.name,
    headline: `${Math.round(bestOf(runs[i], 'roundTripsPerSecond')).toLocaleString('en-US')} round trips/s  ${formatBytesPerSecond(bestOf(runs[i], 'bytesPerSecond'))}`,
    details: `runs: ${runs[i].map((figures) => `${figures.roundTripsPerSecond.toFixed(0)} rt/s, ${(figures.bytesPerSecond / 2 ** 20).toFixed(0)} MiB/s`).join('; ')}`,
    figures: { roundTripsPerSecond: bestOf(runs[i], 'roundTripsPerSecond'), bytesPerSecond: bestOf(runs[i], 'bytesPerSecond'), runs: runs[i] },
  }));
  const ratio = (i: number, key: keyof Echoes): number => bestOf(runs[i], key) / bestOf(runs[0], key);
  return {
    id: '11',
    title: 'WebSocket echo through spry (--http-to a ws server) vs straight to the ws server',
    shape: `round trips: ${SMALL.connections} WebSockets × ${SMALL.bytes} B messages; bytes: ${LARGE.connections} WebSocket × 64 KiB messages (payload both ways); 1 s warm-up + ${seconds} s measured, best of ${repeats} alternating runs`,
    rows,
    ratios: [
      { label: 'round trips/s, spry HTTP/1.1 ÷ straight', value: ratio(1, 'roundTripsPerSecond') },
      { label: 'round trips/s, spry h2c ÷ straight', value: ratio(2, 'roundTripsPerSecond') },
      { label: 'bytes/s, spry HTTP/1.1 ÷ straight', value: ratio(1, 'bytesPerSecond') },
      { label: 'bytes/s, spry h2c ÷ straight', value: ratio(2, 'bytesPerSecond') },
    ],
    notes: [],
  };
}
