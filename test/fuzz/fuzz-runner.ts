// Runs the fuzzer against a real spry process over real TLS sockets: for each SPDY version,
// connections carrying the generator's frames (several at once), then, after every round, a
// well-formed request on a fresh connection that must be answered. Flags a crash (the process
// exits), a hang (the probe is not answered), any stack trace or unexpected line on stderr, and
// the server's resident memory (sampled each round; at the start and end after a full GC).

import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodePing } from '../../src/spdy/frame-encoder.ts';
import { SPDY_VERSIONS, type SpdyAlpn } from '../../src/spdy/versions.ts';
import { RawSpdyPeer } from '../helpers/raw-spdy-peer.ts';
import { startSpry, TEST_APP_ARGS, type SpryProcess } from '../helpers/spry-process.ts';
import { FrameGenerator, type ConnectionPlan } from './frame-generator.ts';

const GC_ON_SIGNAL = fileURLToPath(new URL('../../bench/tools/gc-on-signal.cjs', import.meta.url));
/** Frames per fuzz connection, at most. */
const MAX_FRAMES_PER_CONNECTION = 400;
/** How long a connection's closing PING may go unanswered (the session may be waiting for bytes). */
const PING_WAIT_MS = 300;
const PROBE_TIMEOUT_MS = 5000;
/** The closing PING's id: odd, as a client's are, and unlike any the generator is likely to use. */
const CLOSING_PING_ID = 0x7fff_fff1;

export interface FuzzOptions {
  readonly versions: readonly SpdyAlpn[];
  readonly framesPerVersion: number;
  readonly seed: number;
  /** Fuzz connections open at once. */
  readonly concurrency: number;
  readonly progress?: (line: string) => void;
}

export interface VersionResult {
  readonly alpn: SpdyAlpn;
  readonly frames: number;
  readonly connections: number;
  /** Connections the server closed (a session error's GOAWAY, or our GOAWAY obeyed). */
  readonly closedByServer: number;
  /** Connections that answered the closing PING: the session was alive after all its frames. */
  readonly pingAnswered: number;
}

export interface FuzzReport {
  readonly seed: number;
  readonly versions: VersionResult[];
  readonly crashes: string[];
  readonly hangs: string[];
  readonly stackTraces: string[];
  readonly unexpectedStderr: string[];
  readonly rssKiB: { readonly start: number; readonly peak: number; readonly end: number };
  /** process.memoryUsage() in KiB after a full GC, at the start and the end. */
  readonly memoryKiB: { readonly start: MemoryKiB; readonly end: MemoryKiB };
  readonly seconds: number;
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const spry = await startSpry(['--https2', 'addr=127.0.0.1:0,spdy=1', ...TEST_APP_ARGS, '--http-timeout', '10', '--disable-logging'], {
    env: { ...process.env, NODE_OPTIONS: `--expose-gc --require ${GC_ON_SIGNAL}${process.env.FUZZ_PRELOAD ? ` --require ${process.env.FUZZ_PRELOAD}` : ''}` },
  });
  const port = spry.listener('https').port;
  const crashes: string[] = [];
  const hangs: string[] = [];
  let exited = false;
  let stopping = false;
  spry.child.once('exit', (code, signal) => {
    exited = true;
    if (!stopping) crashes.push(`spry exited (status ${code}, signal ${signal})`);
  });
  const versions: VersionResult[] = [];
  let peak = 0;
  try {
    const start = await gcMemory(spry);
    for (const [index, alpn] of options.versions.entries()) {
      const generator = new FrameGenerator(SPDY_VERSIONS[alpn], (options.seed + index * 0x9e37_79b9) >>> 0);
      const result = { alpn, frames: 0, connections: 0, closedByServer: 0, pingAnswered: 0 };
      let round = 0;
      while (result.frames < options.framesPerVersion && !exited) {
        const plans: ConnectionPlan[] = [];
        for (let i = 0; i < options.concurrency; i++) plans.push(generator.connection(MAX_FRAMES_PER_CONNECTION));
        const firstFrame = result.frames;
        const outcomes = await Promise.all(plans.map((plan) => fuzzConnection(port, alpn, plan)));
        for (const [i, outcome] of outcomes.entries()) {
          result.frames += plans[i].frames;
          result.connections++;
          if (outcome === 'closed') result.closedByServer++;
          else if (outcome === 'answered') result.pingAnswered++;
        }
        peak = Math.max(peak, rssKiB(spry));
        if (exited) break;
        const probe = await probeAnswered(port, alpn);
        if (probe !== undefined) hangs.push(`${alpn} seed ${options.seed} round ${round} (frames ${firstFrame}-${result.frames}): ${probe}`);
        round++;
        if (round % 50 === 0) options.progress?.(`${alpn}: ${result.frames} frames, ${result.connections} connections, RSS ${rssKiB(spry)} KiB`);
      }
      versions.push(result);
      options.progress?.(`${alpn}: done, ${result.frames} frames over ${result.connections} connections`);
    }
    // Let the sessions' idle sweeps (every second) run before the last measure.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const end = exited ? start : await gcMemory(spry);
    const lines = stderrLines(spry);
    return {
      seed: options.seed,
      versions,
      crashes,
      hangs,
      stackTraces: lines.filter((line) => /^\s+at |Error\b|\bTrace\b/.test(line)),
      unexpectedStderr: lines,
      rssKiB: { start: start.rss, peak: Math.max(peak, start.rss, end.rss), end: end.rss },
      memoryKiB: { start, end },
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
  } finally {
    stopping = true;
    await spry.stop();
  }
}

/** Sends one plan's chunks, then a PING; resolves with how the connection ended. */
function fuzzConnection(port: number, alpn: SpdyAlpn, plan: ConnectionPlan): Promise<'closed' | 'answered' | 'silent'> {
  const echo = encodePing(SPDY_VERSIONS[alpn], CLOSING_PING_ID);
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ALPNProtocols: [alpn], rejectUnauthorized: false });
    let tail = Buffer.alloc(0);
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (outcome: 'closed' | 'answered' | 'silent'): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    socket.on('error', () => {});
    socket.on('close', () => settle('closed'));
    socket.on('data', (chunk: Buffer) => {
      // Only the last bytes matter: the echo is 12 bytes, and may straddle two chunks.
      tail = Buffer.concat([tail.subarray(-echo.length), chunk]);
      if (timer !== undefined && tail.includes(echo)) settle('answered');
    });
    socket.once('secureConnect', async () => {
      for (const [i, chunk] of plan.chunks.entries()) {
        if (socket.destroyed) return;
        socket.write(chunk);
        // Let some pieces arrive on their own, so the server reads them at these split points.
        if (i % 8 === 7) await new Promise((next) => setImmediate(next));
      }
      if (socket.destroyed) return;
      socket.write(echo);
      timer = setTimeout(() => settle('silent'), PING_WAIT_MS);
    });
  });
}

/** Undefined if a well-formed GET on a fresh connection is answered; else what went wrong. */
async function probeAnswered(port: number, alpn: SpdyAlpn): Promise<string | undefined> {
  let peer: RawSpdyPeer | undefined;
  try {
    peer = await RawSpdyPeer.connect(port, alpn, PROBE_TIMEOUT_MS);
    peer.write(peer.request(1, '/bytes?n=10'));
    const response = await peer.response(1, PROBE_TIMEOUT_MS);
    return response.status === 200 ? undefined : `the probe got status ${response.status}`;
  } catch (error) {
    return (error as Error).message;
  } finally {
    peer?.close();
  }
}

function rssKiB(spry: SpryProcess): number {
  try {
    const status = readFileSync(`/proc/${spry.child.pid}/status`, 'latin1');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Resident memory after two full collections (gc-on-signal answers SIGUSR2 on stderr). */
async function gcMemory(spry: SpryProcess): Promise<MemoryKiB> {
  const before = spry.stderr().length;
  spry.child.kill('SIGUSR2');
  for (let waited = 0; waited < 5000; waited += 20) {
    const match = /gc-on-signal (\{.*\})/.exec(spry.stderr().slice(before));
    if (match !== null) {
      const usage = JSON.parse(match[1]) as Record<keyof MemoryKiB, number>;
      const kib = (n: number): number => Math.round(n / 1024);
      return { rss: kib(usage.rss), heapUsed: kib(usage.heapUsed), heapTotal: kib(usage.heapTotal), external: kib(usage.external), arrayBuffers: kib(usage.arrayBuffers) };
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { rss: rssKiB(spry), heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
}

export interface MemoryKiB {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

/** What spry printed besides its startup lines and the GC reports. */
function stderrLines(spry: SpryProcess): string[] {
  return spry
    .stderr()
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('spry: serving ') && !line.startsWith('spry: no cert=/key= given') && !line.startsWith('gc-on-signal '));
}
