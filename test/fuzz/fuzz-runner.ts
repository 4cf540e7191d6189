// Runs the SPDY fuzzer against a real spry process over real TLS sockets: for each SPDY version,
// connections carrying the generator's frames (several at once), then, after every round, a
// well-formed request on a fresh connection that must be answered. Flags a crash (the process
// exits), a hang (the probe is not answered), any stack trace or unexpected line on stderr (each
// with the seed and the frames of the round before it), and the server's resident memory
// (sampled each round; at the start and end after a full GC).

import { connect as tlsConnect } from 'node:tls';
import { encodePing } from '../../src/spdy/frame-encoder.ts';
import { SPDY_VERSIONS, type SpdyAlpn } from '../../src/spdy/versions.ts';
import { RawSpdyPeer } from '../helpers/raw-spdy-peer.ts';
import { TEST_APP_ARGS } from '../helpers/spry-process.ts';
import { FrameGenerator, type ConnectionPlan } from './frame-generator.ts';
import { writeChunks } from './wire.ts';
import { SpryUnderFuzz, type Findings, type MemoryKiB } from './spry-under-fuzz.ts';

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
  /** Rounds whose frames all come before this frame are generated but not sent (to replay a finding). */
  readonly skipFrames?: number;
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

export interface FuzzReport extends Findings {
  readonly seed: number;
  readonly versions: VersionResult[];
  readonly rssKiB: { readonly start: number; readonly peak: number; readonly end: number };
  /** process.memoryUsage() in KiB after a full GC, at the start and the end. */
  readonly memoryKiB: { readonly start: MemoryKiB; readonly end: MemoryKiB };
  readonly seconds: number;
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const target = await SpryUnderFuzz.start(['--https2', 'addr=127.0.0.1:0,spdy=1', ...TEST_APP_ARGS, '--http-timeout', '10']);
  const port = target.spry.listener('https').port;
  const versions: VersionResult[] = [];
  try {
    const start = await target.gcMemory();
    for (const [index, alpn] of options.versions.entries()) {
      const seed = (options.seed + index * 0x9e37_79b9) >>> 0;
      const generator = new FrameGenerator(SPDY_VERSIONS[alpn], seed);
      const result = { alpn, frames: 0, connections: 0, closedByServer: 0, pingAnswered: 0 };
      let round = 0;
      while (result.frames < options.framesPerVersion && !target.exited) {
        const plans: ConnectionPlan[] = [];
        for (let i = 0; i < options.concurrency; i++) plans.push(generator.connection(MAX_FRAMES_PER_CONNECTION));
        const firstFrame = result.frames;
        const frames = plans.reduce((sum, plan) => sum + plan.frames, 0);
        result.frames += frames;
        round++;
        if (result.frames <= (options.skipFrames ?? 0)) continue;
        const place = `${alpn} --seed ${options.seed} (generator seed ${seed}) round ${round - 1}, frames ${firstFrame}-${result.frames - 1}`;
        const outcomes = await Promise.all(plans.map((plan) => fuzzConnection(port, alpn, plan)));
        for (const outcome of outcomes) {
          result.connections++;
          if (outcome === 'closed') result.closedByServer++;
          else if (outcome === 'answered') result.pingAnswered++;
        }
        target.roundDone(place);
        if (target.exited) break;
        const probe = await probeAnswered(port, alpn);
        if (probe !== undefined) target.hang(place, probe);
        if (round % 50 === 0) options.progress?.(`${alpn}: ${result.frames} frames, ${result.connections} connections, RSS ${target.rssKiB()} KiB`);
      }
      versions.push(result);
      options.progress?.(`${alpn}: done, ${result.frames} frames over ${result.connections} connections`);
    }
    const end = target.exited ? start : await target.settledMemory();
    return {
      seed: options.seed,
      versions,
      ...target.findings,
      rssKiB: { start: start.rss, peak: Math.max(target.peakRssKiB, start.rss, end.rss), end: end.rss },
      memoryKiB: { start, end },
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
  } finally {
    await target.stop();
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
      if (!(await writeChunks(socket, plan.chunks, plan.pauseEvery))) return;
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
