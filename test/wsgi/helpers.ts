// What the managed-Python tests share: spry running a WSGI app under its own uWSGI workers, the
// pids of those workers as spry reports them, and bounded HTTP/1.1 load that counts every answer.

import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';

/** "spry: uWSGI worker 1 (pid 123) serving APP on PATH", once per start, respawn and reload. */
const SERVING_WORKER = /uWSGI worker (\d+) \(pid (\d+)\) serving/g;

/** Every uWSGI worker pid spry reported, in order. */
export function reportedWorkerPids(stderr: string): number[] {
  return [...stderr.matchAll(SERVING_WORKER)].map((match) => Number(match[2]));
}

/** The real uid of a running process. */
export function uidOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('Uid:'));
  return Number(line?.split(/\s+/)[1]);
}

export interface LoadCounts {
  /** Status → count. */
  readonly statuses: Map<number, number>;
  /** Requests that failed without a status (connection errors). */
  errors: number;
  /** The pids the echo app reported. */
  readonly pids: Set<number>;
  total: number;
}

/**
 * `concurrency` keep-alive HTTP/1.1 loops of GET `path` on 127.0.0.1:`port`, until `requests`
 * have been answered or `until()` is true. Each request has a time limit; none is retried.
 */
export async function runGets(port: number, options: { concurrency: number; requests: number; path: string; until?: () => boolean }): Promise<LoadCounts> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const counts: LoadCounts = { statuses: new Map(), errors: 0, pids: new Set(), total: 0 };
  let issued = 0;
  const lane = async (): Promise<void> => {
    while (issued < options.requests && !(options.until?.() ?? false)) {
      issued++;
      const outcome = await get(agent, port, options.path);
      counts.total++;
      if (outcome.status === undefined) counts.errors++;
      else counts.statuses.set(outcome.status, (counts.statuses.get(outcome.status) ?? 0) + 1);
      if (outcome.pid !== undefined) counts.pids.add(outcome.pid);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, lane));
  } finally {
    agent.destroy();
  }
  return counts;
}

function get(agent: Agent, port: number, path: string): Promise<{ status?: number; pid?: number }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => {
        const pid = /"pid": (\d+)/.exec(Buffer.concat(chunks).toString())?.[1];
        resolve({ status: res.statusCode, ...(pid === undefined ? {} : { pid: Number(pid) }) });
      });
      res.once('error', () => resolve({}));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve({}));
    req.end();
  });
}

/** "200×1234, 502×2" */
export function describeCounts(counts: LoadCounts): string {
  return `${[...counts.statuses].map(([status, n]) => `${status}×${n}`).join(', ')}${counts.errors > 0 ? `, ${counts.errors} errors` : ''} of ${counts.total}`;
}
