// What the observe tests share: a temporary directory, reading a log file once it holds the
// lines a test made (a bounded wait: the writer batches), the stats document, and promtool's
// verdict on a /metrics text.

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { encodeUwsgiRequest } from '../../src/uwsgi/packet.ts';

export async function tempDir(): Promise<{ path: string; file(name: string): string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'spry-observe-'));
  return { path, file: (name) => join(path, name), remove: () => rm(path, { recursive: true, force: true }) };
}

/** The file's lines once there are at least `count` (up to 10 s), whatever is there after that. */
export async function linesOf(path: string, count: number): Promise<string[]> {
  const until = Date.now() + 10_000;
  for (;;) {
    const text = await readFile(path, 'utf8').catch(() => '');
    const lines = text.split('\n').filter((line) => line !== '');
    if (lines.length >= count || Date.now() > until) return lines;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * What a uwsgi router would send for a GET of `path` (with `extra` variables) to --socket `port`
 * (or the unix socket at `path`), and the answer, whole.
 */
export function uwsgiGet(port: number, path: string, extra: Record<string, string> = {}, socketPath?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const onConnect = (): void => {
      socket.write(encodeUwsgiRequest({ REQUEST_METHOD: 'GET', REQUEST_URI: path, PATH_INFO: path, QUERY_STRING: '', SERVER_PROTOCOL: 'HTTP/1.1', SERVER_NAME: 'localhost', SERVER_PORT: '80', REMOTE_ADDR: '10.1.2.3', HTTP_HOST: 'localhost', ...extra }));
    };
    const socket = socketPath === undefined ? connect(port, '127.0.0.1', onConnect) : connect(socketPath, onConnect);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}

export interface StatsDoc {
  version: string;
  pid: number;
  workers: { id: number; pid: number; requests: number }[];
  protocols: Record<string, { connections: number; connectionsTotal: number; errors: Record<string, number>; requests: number; statusClasses: Record<string, number>; upgrades: number; upgradesTotal: number }>;
  caches: Record<string, { hits: number; misses: number }>;
  pushes: { sent: number; refused: number };
}

/** The --stats server's document (a raw TCP stats server: it writes it on connect, then closes). */
export function readStats(port: number): Promise<StatsDoc> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as StatsDoc));
    socket.on('error', reject);
  });
}

/** The stats document once `condition` holds of it (up to 10 s; the last one read after that). */
export async function statsWhen(port: number, condition: (stats: StatsDoc) => boolean): Promise<StatsDoc> {
  const until = Date.now() + 10_000;
  for (;;) {
    const stats = await readStats(port);
    if (condition(stats) || Date.now() > until) return stats;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `promtool check metrics` on `text`: its exit code and everything it printed. */
export function promtoolCheck(promtool: string, text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(promtool, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}
