// Scenario 9's stalled attack (bench/load/attack.ts: 1,000 streams at a 16 KiB window, never
// opened further) held past spry's --http-timeout, so that its stall reset (RST_STREAM CANCEL on
// SPDY, spry's own watch on h2: src/spdy/stall-watch.ts, src/http2/stall-watch.ts) happens
// inside the measured stretch: the server's CPU and its RSS growth (peak VmHWM over the RSS it
// rested at) over the whole attack, beside bare node:http2, which sheds the attack its own way.
// One fresh server per run, after a warm-up by the legitimate client.
//
//   npx node --conditions=spry-source bench/tools/stall-reset.ts [TIMEOUT_SECONDS=1] [HOLD_SECONDS=3] [RUNS=3]

import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { median } from '../lib/context.ts';
import { assertNodeProcess, killAllOnExit, peakResidentBytes, processCpuSeconds, residentBytes, resetPeakResident, runToCompletion, stopAll } from '../lib/processes.ts';
import { BENCH, HELLO_MODULE, NODE, makeCertificate, startScriptServer, startSpry, spryTlsArgs, type RunningServer } from '../lib/servers.ts';

const [timeoutText = '1', holdText = '3', runsText = '3'] = process.argv.slice(2);
const MiB = 2 ** 20;
killAllOnExit();
const cert = await makeCertificate();

async function client(role: string, protocol: string, port: number, seconds: number, warmup = 0): Promise<Record<string, number>> {
  const args = ['--conditions=spry-source', join(BENCH, 'load', 'attack.ts'), role, protocol, String(port), String(seconds), String(warmup)];
  const { stdout, code, stderr } = await runToCompletion(`${role} client`, NODE, args, (seconds + warmup + 30) * 1000);
  if (code !== 0) throw new Error(`${role} exited ${code}: ${stderr.slice(-500)}`);
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, number>;
}

async function once(start: () => Promise<RunningServer>, protocol: string): Promise<{ cpu: number; growth: number; outcome: Record<string, number> }> {
  const server = await start();
  try {
    const pid = server.process.pid;
    assertNodeProcess(pid);
    await client('legitimate', protocol, server.port, 0.5, 0.5);
    await sleep(300);
    const resting = residentBytes(pid);
    resetPeakResident(pid);
    const cpuBefore = processCpuSeconds(pid);
    const outcome = await client('stalled', protocol, server.port, Number(holdText));
    await sleep(300);
    return { cpu: processCpuSeconds(pid) - cpuBefore, growth: peakResidentBytes(pid) - resting, outcome };
  } finally {
    await server.process.stop();
  }
}

const spry = (): Promise<RunningServer> => startSpry({ args: [...spryTlsArgs(cert), '--http-timeout', timeoutText], module: HELLO_MODULE });
const nodeHttp2 = (): Promise<RunningServer> => startScriptServer('node-http2', NODE, 'node-http2.ts', cert);
const targets = [
  ...['spdy/2', 'spdy/3', 'spdy/3.1', 'h2'].map((protocol) => ({ name: `spry ${protocol} --http-timeout ${timeoutText}`, protocol, start: spry })),
  { name: 'node:http2 h2', protocol: 'h2', start: nodeHttp2 },
];
try {
  for (const target of targets) {
    const runs = [];
    for (let i = 0; i < Number(runsText); i++) runs.push(await once(target.start, target.protocol));
    const o = runs.map((run) => run.outcome);
    process.stdout.write(
      `${target.name}: CPU ${median(runs.map((run) => run.cpu)).toFixed(2)} s (runs ${runs.map((run) => run.cpu.toFixed(2)).join(', ')}), ` +
        `RSS +${(median(runs.map((run) => run.growth)) / MiB).toFixed(1)} MiB; streams sent ${o.map((x) => x.sent).join('/')}, ` +
        `reset by the server ${o.map((x) => x.resetsReceived ?? 0).join('/')}, connections ${o.map((x) => x.connections).join('/')}, closed by the server ${o.map((x) => x.closedByServer).join('/')}\n`,
    );
  }
} finally {
  await stopAll();
  await cert.dispose();
}
