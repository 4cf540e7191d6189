// Real peers for the uwsgi tests: uWSGI (Debian's uwsgi-core with the python3 and http plugins),
// nginx, and spry's own --socket mode, each a child process started on free ports and always
// stopped (every wait bounded). Also the small checks the tests share.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testCertificate } from '../helpers/server.ts';
import { SPRY_NODE_ARGS } from '../helpers/spry-command.ts';
import { NGINX, UWSGI } from '../tools/tools.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const WSGI_ECHO = fileURLToPath(new URL('../fixtures/wsgi_echo.py', import.meta.url));
export const WSGI_WEBSOCKET = fileURLToPath(new URL('../fixtures/wsgi_websocket.py', import.meta.url));

const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 3_000;

export const MIB = 1024 * 1024;

/** Skip reasons (false: runs), each naming the Debian package .ci/run installs. */
export const SKIP_UWSGI_PYTHON: string | false = UWSGI.skip || missingFile('/usr/lib/uwsgi/plugins/python3_plugin.so', "uWSGI's python3 plugin", 'uwsgi-plugin-python3');
export const SKIP_WERKZEUG: string | false = SKIP_UWSGI_PYTHON || missingFile('/usr/lib/python3/dist-packages/werkzeug', "Debian's Werkzeug", 'python3-werkzeug');
export const SKIP_NGINX: string | false = NGINX.skip;
export const SKIP_UWSGI_ROUTER: string | false = UWSGI.skip;

function missingFile(path: string, what: string, debianPackage: string): string | false {
  return existsSync(path) ? false : `${what} is not installed (Debian package ${debianPackage}; .ci/run installs it)`;
}

/** A port nothing listens on right now, outside the range ports 0 and outgoing connections come from. */
export { freePort } from '../helpers/free-port.ts';

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** The test certificate as files, so spry processes need not make one each. */
export async function writeCertificate(dir: string): Promise<{ cert: string; key: string }> {
  const { cert, key } = await testCertificate();
  const files = { cert: join(dir, 'spry.crt'), key: join(dir, 'spry.key') };
  await writeFile(files.cert, cert);
  await writeFile(files.key, key);
  return files;
}

// ── child processes ─────────────────────────────────────────────────────────

export interface Peer {
  readonly name: string;
  readonly child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** Kills the process (and, for a process group leader, its group) and waits for it to exit. */
  stop(): Promise<void>;
}

interface PeerOptions {
  readonly cwd?: string;
  /** Resolves when this appears in the output… */
  readonly ready?: RegExp;
  /** …or when this address accepts a connection. */
  readonly readyAddress?: { host: string; port: number } | { path: string };
  /** Run in its own process group, killed as a group (uWSGI and nginx fork). */
  readonly group?: boolean;
  /** First signal on stop; SIGKILL follows after a grace period. */
  readonly stopSignal?: NodeJS.Signals;
}

export async function startPeer(name: string, command: string, args: readonly string[], options: PeerOptions): Promise<Peer & { readonly match: RegExpExecArray | undefined }> {
  const child = spawn(command, args, { cwd: options.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: options.group ?? false });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (output += text));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));

  const signal = (which: NodeJS.Signals): void => {
    try {
      if (options.group === true && child.pid !== undefined) process.kill(-child.pid, which);
      else child.kill(which);
    } catch {
      // already gone
    }
  };
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        signal(options.stopSignal ?? 'SIGTERM');
        const timer = setTimeout(() => signal('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      // A group leader's children may outlive it by a moment.
      if (options.group === true) signal('SIGKILL');
    })());

  const deadline = Date.now() + START_TIMEOUT_MS;
  let match: RegExpExecArray | undefined;
  try {
    for (;;) {
      if (spawnError !== undefined) throw spawnError;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready`);
      if (options.ready !== undefined) {
        match = options.ready.exec(output) ?? undefined;
        if (match !== undefined) break;
      } else if (options.readyAddress !== undefined && (await accepts(options.readyAddress))) break;
      if (Date.now() > deadline) throw new Error(`${name} was not ready within ${START_TIMEOUT_MS} ms`);
      await delay(50);
    }
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}; ${command} ${args.join(' ')}\n${output}`);
  }
  return { name, child, output: () => output, stop, match };
}

function accepts(address: { host: string; port: number } | { path: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = 'path' in address ? connect(address.path) : connect(address.port, address.host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A WSGI app under real uWSGI, serving the uwsgi protocol on `socket` (host:port or a unix path).
 * `app` is `--module`'s value, or a .py file for `--wsgi-file`.
 */
export function startUwsgi(app: string, socket: string, cwd: string, extraArgs: readonly string[] = []): Promise<Peer> {
  const appArgs = app.endsWith('.py') ? ['--wsgi-file', app] : ['--module', app];
  return startPeer(`uwsgi ${socket}`, UWSGI.path ?? 'uwsgi', ['--plugin', 'python3', '--socket', socket, ...appArgs, '--disable-logging', ...extraArgs], {
    cwd,
    ready: /spawned uWSGI worker 1/,
    group: true,
    stopSignal: 'SIGINT',
  });
}

/** spry run as a user runs it (`node bin/spry.ts …`), ready once `ready` appears on stderr. */
export function startSpryWith(args: readonly string[], ready: RegExp): Promise<Peer & { readonly match: RegExpExecArray | undefined }> {
  return startPeer(`spry ${args.join(' ')}`, process.execPath, [...SPRY_NODE_ARGS, ...args], { ready });
}

/** nginx passing every request to a uwsgi server (`uwsgi_pass`), with its files under `dir`. */
export async function startNginx(dir: string, port: number, uwsgiPass: string): Promise<Peer> {
  const prefix = join(dir, 'nginx');
  await mkdir(prefix, { recursive: true });
  // Root's workers run as nobody, and nobody must write the temp files big bodies go to.
  await chmod(dir, 0o755);
  await chmod(prefix, 0o777);
  const conf = join(prefix, 'nginx.conf');
  await writeFile(
    conf,
    `daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log;
worker_processes 1;
events {}
http {
  access_log off;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 0;
    location / {
      include /etc/nginx/uwsgi_params;
      uwsgi_pass ${uwsgiPass};
    }
  }
}
`,
  );
  return startPeer(`nginx :${port}`, NGINX.path ?? 'nginx', ['-p', `${prefix}/`, '-e', `${prefix}/error.log`, '-c', conf], {
    readyAddress: { host: '127.0.0.1', port },
    group: true,
    stopSignal: 'SIGTERM',
  });
}

// ── checks ──────────────────────────────────────────────────────────────────

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Byte i is i % 251: what examples/testapp.ts and test/fixtures/wsgi_echo.py serve at /bytes. */
export function patternBytes(n: number): Buffer {
  const buffer = Buffer.alloc(n);
  for (let i = 0; i < n; i++) buffer[i] = i % 251;
  return buffer;
}

/** Deterministic pseudo-random bytes (so a failure reproduces), distinct from the /bytes pattern. */
export function uploadBytes(n: number): Buffer {
  const buffer = Buffer.alloc(n);
  let x = 0x12345678;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buffer[i] = x & 0xff;
  }
  return buffer;
}

/** Hashes a stream of chunks as they arrive, never holding them. */
export class StreamingHash {
  private readonly hash = createHash('sha256');
  bytes = 0;
  readonly take = (chunk: Buffer): void => {
    this.hash.update(chunk);
    this.bytes += chunk.length;
  };
  digest(): string {
    return this.hash.digest('hex');
  }
}

export interface PlainResponse {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly rawHeaders: string[];
  readonly body: Buffer;
}

/** One plain-HTTP request (to nginx or uWSGI's router), body collected unless `onBody` takes it. */
export function plainRequest(
  port: number,
  path: string,
  options: { method?: string; body?: Buffer; headers?: Record<string, string>; onBody?: (chunk: Buffer) => void; timeoutMs?: number } = {},
): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const headers = { ...options.headers, ...(options.body === undefined ? {} : { 'content-length': String(options.body.length) }) };
    const req = httpRequest({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers, agent: false, timeout: options.timeoutMs ?? 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => (options.onBody === undefined ? chunks.push(chunk) : options.onBody(chunk)));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`${path}: no response within ${options.timeoutMs ?? 30_000} ms`)));
    req.once('error', reject);
    req.end(options.body);
  });
}

/** Rejects with `message` if `promise` takes longer than `ms`. */
export async function within<T>(ms: number, promise: Promise<T>, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${message} (no outcome within ${ms} ms)`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export function assertEnvironIncludes(env: Record<string, unknown>, expected: Record<string, string>): void {
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(expected)) picked[key] = env[key];
  assert.deepEqual(picked, expected);
}

/** Werkzeug's test app prints the environ as `<tr><th>KEY<td><code>repr(value)</code>`, HTML-escaped. */
export function werkzeugEnviron(html: string): Record<string, string> {
  const section = html.slice(html.indexOf('id="wsgi-environment"'));
  const env: Record<string, string> = {};
  for (const [, key, value] of section.matchAll(/<tr><th>(.*?)<td><code>(.*?)<\/code>/gs)) {
    const text = unescapeHtml(value);
    env[unescapeHtml(key)] = /^'.*'$/s.test(text) ? text.slice(1, -1) : text;
  }
  return env;
}

function unescapeHtml(text: string): string {
  return text.replace(/&#39;|&#x27;|&quot;|&lt;|&gt;|&amp;/g, (entity) => ({ '&#39;': "'", '&#x27;': "'", '&quot;': '"', '&lt;': '<', '&gt;': '>', '&amp;': '&' })[entity]!);
}
