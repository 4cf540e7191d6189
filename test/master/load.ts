// Continuous load for the reload tests: lanes of spdy/3.1 and h2 requests, on a fresh
// connection each or on one reused connection (several streams at once), until told to stop.
// Every response is checked whole. A request the server refused without processing it (SPDY or
// h2 GOAWAY above its stream id, RST_STREAM REFUSED_STREAM, or a session already closing when the
// request was about to go out) is retried on a new connection, as the protocols allow; anything
// else (a reset, a truncated body, a hang, a non-200) is a lost request.

import type { ClientHttp2Session } from 'node:http2';
import type { SpdyClient } from '../../src/spdy/client.ts';
import {
  connectH2,
  connectSpdy,
  h2Request,
  isRefusal,
  spdyRequest,
  type Answer,
} from './clients.ts';

const MAX_ATTEMPTS = 5;
/** Streams sent at once on a reused connection. */
const STREAMS_PER_ROUND = 3;
const BYTES_N = 100_000;
const PATTERN_MOD = 251;

export interface LoadStats {
  /** Requests that got a full 200 (each counted once, whatever its retries). */
  ok: number;
  /** Retries after a refusal the protocol says is safe to retry. */
  retried: number;
  readonly failures: string[];
  /** [time, pid] for every /process.json answer. */
  readonly pids: [at: number, pid: number][];
}

export interface Lane {
  readonly protocol: 'spdy/3.1' | 'h2';
  readonly reuse: boolean;
}

export const LANES: readonly Lane[] = [
  { protocol: 'spdy/3.1', reuse: false },
  { protocol: 'spdy/3.1', reuse: true },
  { protocol: 'h2', reuse: false },
  { protocol: 'h2', reuse: true },
];

/** Runs every lane until `shouldStop()`; resolves with the counts once all are done. */
export async function runLoad(port: number, shouldStop: () => boolean): Promise<LoadStats> {
  const stats: LoadStats = { ok: 0, retried: 0, failures: [], pids: [] };
  await Promise.all(LANES.map((lane) => runLane(port, lane, shouldStop, stats)));
  return stats;
}

/** The paths cycled through: who served it, a response that stays in flight, and a long body. */
const PATHS = ['/process.json', '/slow?ms=40', `/bytes?n=${BYTES_N}`] as const;

async function runLane(port: number, lane: Lane, shouldStop: () => boolean, stats: LoadStats): Promise<void> {
  const connection = new LaneConnection(port, lane);
  try {
    for (let round = 0; !shouldStop(); round++) {
      const count = lane.reuse ? STREAMS_PER_ROUND : 1;
      const paths = Array.from({ length: count }, (_, i) => PATHS[(round + i) % PATHS.length]);
      await Promise.all(paths.map((path) => requestWithRetries(connection, path, lane, stats)));
    }
  } finally {
    connection.destroy();
  }
}

async function requestWithRetries(connection: LaneConnection, path: string, lane: Lane, stats: LoadStats): Promise<void> {
  const what = `${lane.protocol}${lane.reuse ? ' (reused connection)' : ''} ${path}`;
  for (let attempt = 1; ; attempt++) {
    let answer: Answer;
    try {
      answer = await connection.request(path);
    } catch (error) {
      if ((error instanceof Refused || isRefusal(error)) && attempt < MAX_ATTEMPTS) {
        stats.retried++;
        continue;
      }
      stats.failures.push(`${what}, attempt ${attempt}: ${(error as Error).message}`);
      return;
    }
    const problem = checkAnswer(path, answer, stats);
    if (problem === undefined) stats.ok++;
    else stats.failures.push(`${what}: ${problem}`);
    return;
  }
}

function checkAnswer(path: string, answer: Answer, stats: LoadStats): string | undefined {
  if (answer.status !== 200) return `status ${answer.status}`;
  if (path === '/process.json') {
    try {
      stats.pids.push([Date.now(), (JSON.parse(answer.body.toString()) as { pid: number }).pid]);
    } catch {
      return `unparsable body ${JSON.stringify(answer.body.toString())}`;
    }
    return undefined;
  }
  if (path.startsWith('/slow')) return answer.body.toString() === 'slow done\n' ? undefined : `body ${JSON.stringify(answer.body.toString())}`;
  if (answer.body.length !== BYTES_N) return `${answer.body.length} of ${BYTES_N} bytes`;
  for (let i = 0; i < answer.body.length; i++) if (answer.body[i] !== i % PATTERN_MOD) return `byte ${i} is wrong`;
  return undefined;
}

/** The connection had already been told to go away when a request was about to be sent. */
class Refused extends Error {}


/** One lane's connection: a new one per request, or one kept until the server sends GOAWAY. */
class LaneConnection {
  private readonly port: number;
  private readonly lane: Lane;
  private spdy: SpdyClient | undefined;
  private h2: ClientHttp2Session | undefined;
  private connecting: Promise<unknown> | undefined;

  constructor(port: number, lane: Lane) {
    this.port = port;
    this.lane = lane;
  }

  async request(path: string): Promise<Answer> {
    if (this.lane.protocol === 'spdy/3.1') {
      const client = this.lane.reuse ? await this.reused(() => this.spdy, (c) => !c.session.destroyed && !c.session.goawayReceived, async () => (this.spdy = this.keep(await connectSpdy(this.port), (c) => c.session.destroy()))) : await connectSpdy(this.port);
      try {
        if (client.session.destroyed || client.session.goawayReceived) throw new Refused('the SPDY session was going away');
        return await spdyRequest(client, path);
      } finally {
        if (!this.lane.reuse) client.session.destroy();
      }
    }
    const session = this.lane.reuse ? await this.reused(() => this.h2, (s) => !s.closed && !s.destroyed, async () => (this.h2 = this.keep(await connectH2(this.port), (s) => s.destroy()))) : await connectH2(this.port);
    try {
      if (session.closed || session.destroyed) throw new Refused('the h2 session was going away');
      return await h2Request(session, path);
    } finally {
      if (!this.lane.reuse) session.destroy();
    }
  }

  destroy(): void {
    for (const destroy of this.kept) destroy();
  }

  /** Every connection a reusing lane opened, for destroy(): replaced ones should close by themselves. */
  private readonly kept: (() => void)[] = [];

  private keep<C>(connection: C, destroy: (connection: C) => void): C {
    this.kept.push(() => destroy(connection));
    return connection;
  }

  /** The kept connection while it is usable; otherwise one new one, shared by concurrent callers. */
  private async reused<C>(current: () => C | undefined, usable: (connection: C) => boolean, connect: () => Promise<C>): Promise<C> {
    const now = current();
    if (now !== undefined && usable(now)) return now;
    this.connecting ??= connect().finally(() => (this.connecting = undefined));
    await this.connecting;
    return current()!;
  }
}
