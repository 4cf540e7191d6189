// Scenario 5: resident memory per idle SPDY/3.1 connection, spry vs node-spdy. For each server:
// warm it up (a few connections, one request each, closed), collect garbage, read its RSS; open
// N connections that each finish the handshake and one GET, leave them idle (long enough for
// spry's idle sweep to have run twice: a session gives back its buffers after one quiet sweep
// period), collect garbage again, read RSS again. Per connection = difference ÷ connections still open. Garbage is
// collected by a preload both servers get (bench/tools/gc-on-signal.cjs, SIGUSR2).

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { IDLE_SWEEP_MS } from '../../src/spdy/front-end.ts';
import type { ScenarioContext } from '../lib/context.ts';
import { residentBytes, spawnManaged } from '../lib/processes.ts';
import { formatBytes, type ScenarioResult } from '../lib/report.ts';
import { BENCH, HELLO_MODULE, NODE, OLD_NODE, OLD_NODE_VERSION, ROOT, startScriptServer, startSpry, spryTlsArgs, type RunningServer } from '../lib/servers.ts';

const GC_PRELOAD = ['--expose-gc', '--require', join(BENCH, 'tools/gc-on-signal.cjs')];
const WARMUP_CONNECTIONS = 20;
/** File descriptors kept free for everything else a process opens. */
const SPARE_FDS = 200;
const HANDSHAKES_IN_PARALLEL = 200;
const OPEN_TIMEOUT_MS = 5 * 60_000;
/** Pause before and after the GC, so in-flight work finishes and freed pages are returned. */
const SETTLE_MS = 1_000;
/** Idle time before the loaded reading: two of spry's sweep periods and a second (every server gets it). */
const IDLE_MS = 2 * IDLE_SWEEP_MS + 1_000;

/** process.memoryUsage() as the server printed it after its GC. */
interface MemoryUsage {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

interface MemoryFigures {
  readonly requested: number;
  readonly open: number;
  readonly failed: number;
  readonly openSeconds: number;
  readonly baselineBytes: number;
  readonly loadedBytes: number;
  readonly bytesPerConnection: number;
  /** Per connection: V8 heap in use, and `external` (ArrayBuffers, Buffers and other native memory V8 knows of). */
  readonly heapBytesPerConnection: number;
  readonly externalBytesPerConnection: number;
}

/** The soft and hard limits on open files here (the servers and the client raise soft to hard). */
export function fileLimits(): { soft: number; hard: number } {
  const read = (flag: string): number => {
    const text = execFileSync('bash', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).trim();
    return text === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(text);
  };
  return { soft: read('-Sn'), hard: read('-Hn') };
}

export async function memory(context: ScenarioContext): Promise<ScenarioResult> {
  const { plan, cert } = context;
  const oldNode = OLD_NODE;
  if (oldNode === undefined) throw new Error('node-spdy needs Node < 22 on PATH (process.binding(http_parser)); none found');
  const limits = fileLimits();
  // Each process runs with its soft limit raised to the hard one; each side holds one fd per connection.
  const connections = Math.min(plan.idleConnections, limits.hard - SPARE_FDS);
  const notes: string[] = [
    `open-file limit: soft ${limits.soft}, hard ${limits.hard}; servers and client run with the soft limit raised to the hard one (bash ulimit -n)`,
  ];
  if (connections < plan.idleConnections) notes.push(`only ${connections} connections, not ${plan.idleConnections}: the hard open-file limit is ${limits.hard}`);

  const spry = await measureServer(context, 'spry', connections, () =>
    startSpry({ args: [...spryTlsArgs(cert), '--http-timeout', '3600'], module: HELLO_MODULE, nodeArgs: GC_PRELOAD, raiseFileLimit: true }),
  );
  const nodeSpdy = await measureServer(context, 'node-spdy', connections, () => startScriptServer('node-spdy', oldNode, 'node-spdy.cjs', cert, GC_PRELOAD, true));
  // The floor: a TLS connection in Node with next to no SPDY state (the canned server of scenario 1).
  const floor = await measureServer(context, 'TLS floor', connections, () => startScriptServer('canned-spdy', NODE, 'canned-spdy.ts', cert, GC_PRELOAD, true));
  for (const [name, figures] of [['spry', spry], ['node-spdy', nodeSpdy], ['TLS floor', floor]] as const) {
    if (figures.open < figures.requested) notes.push(`${name}: ${figures.open} of ${figures.requested} connections were open at the reading (${figures.failed} failed to open)`);
  }
  const row = (server: string, figures: MemoryFigures) => ({
    server,
    headline: `${formatBytes(figures.bytesPerConnection)}/conn`,
    details: `of which V8 heap ${formatBytes(figures.heapBytesPerConnection)}, external ${formatBytes(figures.externalBytesPerConnection)}; RSS ${formatBytes(figures.baselineBytes)} → ${formatBytes(figures.loadedBytes)} with ${figures.open} idle connections (opened in ${figures.openSeconds.toFixed(1)} s)`,
    figures,
  });
  return {
    id: '5',
    title: 'Resident memory per idle SPDY/3.1 connection: spry vs node-spdy',
    shape: `${connections} connections, each after the handshake and one GET /, idle; RSS read after a full GC; spry on ${process.version}, node-spdy on ${OLD_NODE_VERSION}`,
    rows: [row('spry', spry), row('node-spdy', nodeSpdy), row('floor: TLS socket, no SPDY state (canned server, Node 24)', floor)],
    ratios: [
      { label: 'memory per idle connection, spry ÷ node-spdy', value: spry.bytesPerConnection / nodeSpdy.bytesPerConnection, target: { kind: 'max', value: 0.2 } },
      // What no server on Node's TLS can go below: shows whether the target above is within reach.
      { label: "a bare Node TLS connection ÷ node-spdy (the floor's share)", value: floor.bytesPerConnection / nodeSpdy.bytesPerConnection },
    ],
    notes,
  };
}

async function measureServer(context: ScenarioContext, name: string, connections: number, start: () => Promise<RunningServer>): Promise<MemoryFigures> {
  const server = await start();
  try {
    context.log(`${name}: warm-up`);
    const warmup = openIdle(server, WARMUP_CONNECTIONS);
    await warmup.opened;
    await warmup.close();
    const baseline = await settledMemory(server);
    context.log(`${name}: opening ${connections} idle connections`);
    const idle = openIdle(server, connections);
    try {
      const opened = await idle.opened;
      await sleep(IDLE_MS);
      const loaded = await settledMemory(server);
      const open = await idle.count();
      const perConnection = (bytes: number): number => (open === 0 ? NaN : bytes / open);
      return {
        requested: connections,
        open,
        failed: opened.failed,
        openSeconds: opened.seconds,
        baselineBytes: baseline.residentBytes,
        loadedBytes: loaded.residentBytes,
        bytesPerConnection: perConnection(loaded.residentBytes - baseline.residentBytes),
        heapBytesPerConnection: perConnection(loaded.usage.heapUsed - baseline.usage.heapUsed),
        externalBytesPerConnection: perConnection(loaded.usage.external - baseline.usage.external),
      };
    } finally {
      await idle.close();
    }
  } finally {
    await server.process.stop();
  }
}

interface IdleClient {
  readonly opened: Promise<{ opened: number; failed: number; seconds: number }>;
  count(): Promise<number>;
  close(): Promise<void>;
}

function openIdle(server: RunningServer, connections: number): IdleClient {
  const script = join(BENCH, 'load/idle-connections.ts');
  const args = [script, '-n', String(connections), '--parallel', String(HANDSHAKES_IN_PARALLEL), `${server.origin}/`];
  const client = spawnManaged('idle-connections', NODE, args, { cwd: ROOT, stdin: true, raiseFileLimit: true });
  let linesRead = 0;
  const nextMessage = async (): Promise<Record<string, unknown>> => JSON.parse(await client.stdoutLine(linesRead++, OPEN_TIMEOUT_MS)) as Record<string, unknown>;
  const opened = nextMessage().then((message) => ({ opened: Number(message.opened), failed: Number(message.failed), seconds: Number(message.seconds) }));
  return {
    opened,
    async count() {
      client.child.stdin!.write('count\n');
      return Number((await nextMessage()).open);
    },
    async close() {
      client.child.stdin!.end('close\n');
      await client.stop(5_000);
    },
  };
}

/** RSS (and the server's own memoryUsage) after a full GC in the server and a moment to settle. */
async function settledMemory(server: RunningServer): Promise<{ residentBytes: number; usage: MemoryUsage }> {
  await sleep(SETTLE_MS);
  const reportsBefore = countReports(server);
  process.kill(server.process.pid, 'SIGUSR2');
  const usage = await server.process.waitUntil(() => (countReports(server) > reportsBefore ? lastReport(server) : undefined), 10_000, 'a gc-on-signal report');
  await sleep(SETTLE_MS);
  return { residentBytes: residentBytes(server.process.pid), usage };
}

const REPORT = /^gc-on-signal (\{.*\})$/gm;

function countReports(server: RunningServer): number {
  return server.process.stderr().match(REPORT)?.length ?? 0;
}

function lastReport(server: RunningServer): MemoryUsage {
  const all = [...server.process.stderr().matchAll(REPORT)];
  return JSON.parse(all[all.length - 1][1]) as MemoryUsage;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
