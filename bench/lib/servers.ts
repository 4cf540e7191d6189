// Starting the servers under test, each in its own process on a loopback port, and knowing when
// each is ready: spry (bin/spry.ts, as a user runs it), the bare Node peers, node-spdy under
// Node 20, the canned SPDY and raw TLS servers, and uWSGI (backend and HTTP router).

import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSelfSignedCertificate } from '../../src/tls/self-signed.ts';
import { findOldNode } from '../../test/helpers/old-node.ts';
import { onExit, spawnManaged, type ManagedProcess } from './processes.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BENCH = join(ROOT, 'bench');
// The spry-source condition: `spry/cache` in the apps resolves to src/, as in the npm scripts.
const SPRY_COMMAND = ['--conditions=spry-source', join(ROOT, 'bin/spry.ts')];
const START_TIMEOUT_MS = 30_000;
export const LOOPBACK = '127.0.0.1';

export interface RunningServer {
  readonly name: string;
  readonly port: number;
  /** `https://127.0.0.1:PORT` or `http://…` */
  readonly origin: string;
  readonly process: ManagedProcess;
}

export interface Certificate {
  readonly certPath: string;
  readonly keyPath: string;
  dispose(): Promise<void>;
}

/** One P-256 certificate for every TLS server, so no server pays for a costlier key. */
export async function makeCertificate(): Promise<Certificate> {
  const dir = await mkdtemp(join(tmpdir(), 'spry-bench-'));
  const pair = await generateSelfSignedCertificate();
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  await writeFile(certPath, pair.cert);
  await writeFile(keyPath, pair.key, { mode: 0o600 });
  onExit(() => rmSync(dir, { recursive: true, force: true })); // if the runner is interrupted
  return { certPath, keyPath, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** Node 24, the runtime this runner is on (npm scripts put it first on PATH). */
export const NODE = process.execPath;
/** A Node older than 22 for node-spdy, or undefined (node-spdy's cases are then skipped). */
export const OLD_NODE = findOldNode();
export const OLD_NODE_VERSION = OLD_NODE === undefined ? 'none' : execFileSync(OLD_NODE, ['--version'], { encoding: 'utf8' }).trim();

const SERVING = /spry: serving .* on (https?):\/\/127\.0\.0\.1:(\d+) /;

export interface SpryOptions {
  /** The listener: `--https2 …` or `--http …` plus anything else, without --module. */
  readonly args: readonly string[];
  /** Omit to forward (`--http-to` in args). */
  readonly module?: string;
  readonly nodeArgs?: readonly string[];
  readonly name?: string;
  readonly raiseFileLimit?: boolean;
}

export async function startSpry(options: SpryOptions): Promise<RunningServer> {
  const moduleArgs = options.module === undefined ? [] : ['--module', options.module];
  const name = options.name ?? 'spry';
  const proc = spawnManaged(name, NODE, [...(options.nodeArgs ?? []), ...SPRY_COMMAND, ...options.args, ...moduleArgs], { cwd: ROOT, raiseFileLimit: options.raiseFileLimit });
  const match = await proc.waitFor(SERVING, START_TIMEOUT_MS);
  const port = Number(match[2]);
  return { name, port, origin: `${match[1]}://${LOOPBACK}:${port}`, process: proc };
}

/** The spry command line for a TLS port speaking SPDY (and h2, HTTP/1.1) with the hello app. */
export function spryTlsArgs(cert: Certificate, extra = ''): string[] {
  return ['--https2', `addr=${LOOPBACK}:0,cert=${cert.certPath},key=${cert.keyPath},spdy=1${extra}`];
}

export const HELLO_MODULE = './bench/apps/hello.ts:hello';

/** A script of bench/servers that prints "listening PORT" (CERT KEY PORT as arguments). */
export async function startScriptServer(name: string, node: string, script: string, cert: Certificate, nodeArgs: readonly string[] = [], raiseFileLimit = false): Promise<RunningServer> {
  const proc = spawnManaged(name, node, [...nodeArgs, join(BENCH, 'servers', script), cert.certPath, cert.keyPath, '0'], { cwd: ROOT, raiseFileLimit });
  const match = await proc.waitFor(/^listening (\d+)$/m, START_TIMEOUT_MS);
  const port = Number(match[1]);
  return { name, port, origin: `https://${LOOPBACK}:${port}`, process: proc };
}

/** A plain-HTTP script of bench/servers that prints "listening PORT" (given `args`, no certificate). */
export async function startPlainScript(name: string, script: string, args: readonly string[]): Promise<RunningServer> {
  const proc = spawnManaged(name, NODE, [join(BENCH, 'servers', script), ...args], { cwd: ROOT });
  const match = await proc.waitFor(/^listening (\S+)$/m, START_TIMEOUT_MS);
  const port = Number(match[1]);
  return { name, port, origin: `http://${LOOPBACK}:${port}`, process: proc };
}

/** A free loopback port, for servers (uWSGI) that cannot report the one they were given. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      server.close(() => (address !== null && typeof address !== 'string' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves once something accepts TCP connections on the port. */
async function waitForPort(port: number, proc: ManagedProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited (${proc.child.exitCode}); output:\n${proc.stderr().slice(-2000)}`);
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect(port, LOOPBACK);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (accepted) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${proc.name}: nothing listens on ${port} after ${START_TIMEOUT_MS} ms; output:\n${proc.stderr().slice(-2000)}`);
}

/**
 * The WSGI hello app under uWSGI, speaking the uwsgi protocol on a loopback port and, given
 * `unixPath`, on that unix socket too (one process behind both: the same backend either way).
 */
export async function startUwsgiBackend(unixPath?: string): Promise<RunningServer> {
  const port = await freePort();
  const proc = spawnManaged('uwsgi backend', 'uwsgi', [
    '--plugin', 'python3',
    '--socket', `${LOOPBACK}:${port}`,
    ...(unixPath === undefined ? [] : ['--socket', unixPath]),
    '--wsgi-file', join(BENCH, 'apps/hello_wsgi.py'),
    '--processes', '1',
    // A deep accept queue: each router opens one backend connection per request.
    '--listen', '1024',
    '--die-on-term',
    '--disable-logging',
  ], { cwd: ROOT });
  await waitForPort(port, proc);
  return { name: 'uwsgi backend', port, origin: `uwsgi://${LOOPBACK}:${port}`, process: proc };
}

/** uWSGI's own HTTP router (the http plugin's gateway process) in front of `backend` (`host:port` or a unix socket path). */
export async function startUwsgiRouter(backend: string): Promise<RunningServer> {
  const port = await freePort();
  const proc = spawnManaged('uWSGI http router', 'uwsgi', [
    '--master',
    '--plugin', 'http',
    '--http', `${LOOPBACK}:${port}`,
    '--http-to', backend,
    // HTTP/1.1 keep-alive towards the client, as spry does (h2load does not reconnect).
    '--http-keepalive',
    '--die-on-term',
    '--disable-logging',
  ], { cwd: ROOT });
  await waitForPort(port, proc);
  return { name: 'uWSGI http router', port, origin: `http://${LOOPBACK}:${port}`, process: proc };
}

/**
 * nginx serving `root` on plain HTTP/1.1 as spry's peer for static files: one worker, sendfile,
 * keep-alive, no access log; `openFileCache` turns open_file_cache on (1 s, as spry's
 * --static-cache-paths 1 is compared with it).
 */
export interface NginxOptions {
  /** open_file_cache for 1 s (the peer of spry's --static-cache-paths 1). */
  readonly openFileCache: boolean;
  /** TLS with this certificate, h2 and HTTP/1.1 by ALPN (sendfile cannot work under TLS without kTLS, which is off). */
  readonly tls?: Certificate;
}

/** Node's default TLS 1.3 suites, in its order (tls.DEFAULT_CIPHERS starts with them). */
const TLS13_SUITES = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256';

/** nginx serving `root` at /static/: one worker process, keep-alive, sendfile, no access log. */
export async function startNginx(root: string, options: NginxOptions): Promise<RunningServer> {
  const port = await freePort();
  const prefix = await mkdtemp(join(tmpdir(), 'spry-bench-nginx-'));
  onExit(() => rmSync(prefix, { recursive: true, force: true }));
  const conf = join(prefix, 'nginx.conf');
  const tls = options.tls;
  // Under TLS the crypto Node's defaults pick (TLS 1.3, AES-256-GCM chosen by the server):
  // nginx 1.22 alone offers no TLS 1.3 and lets the client pick AES-128, which costs less.
  const listen = tls === undefined
    ? `listen ${LOOPBACK}:${port};`
    : `listen ${LOOPBACK}:${port} ssl http2; ssl_certificate ${tls.certPath}; ssl_certificate_key ${tls.keyPath}; ssl_protocols TLSv1.2 TLSv1.3; ssl_prefer_server_ciphers on; ssl_conf_command Ciphersuites ${TLS13_SUITES};`;
  await writeFile(conf, [
    'worker_processes 1;', 'daemon off;', 'master_process off;', `pid ${join(prefix, 'nginx.pid')};`, 'error_log stderr warn;',
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000; default_type application/octet-stream;',
    `  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy; fastcgi_temp_path ${prefix}/fastcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;`,
    ...(options.openFileCache ? ['  open_file_cache max=1000 inactive=20s; open_file_cache_valid 1s; open_file_cache_errors on;'] : []),
    `  server { ${listen} location /static/ { alias ${root}/; } }`,
    '}',
  ].join('\n'));
  const name = `nginx${options.openFileCache ? ' (open_file_cache)' : ''}${tls === undefined ? '' : ' TLS'}`;
  const proc = spawnManaged(name, 'nginx', ['-p', prefix, '-c', conf], { cwd: prefix });
  await waitForPort(port, proc);
  return { name, port, origin: `${tls === undefined ? 'http' : 'https'}://${LOOPBACK}:${port}`, process: proc };
}
