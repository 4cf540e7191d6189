// Unix sockets wherever an address is taken (--http, --socket, --https2 addr=, --shared-socket),
// uWSGI's --chmod-socket, --chown-socket and --vacuum, a stale socket file replaced at start,
// Linux abstract names (@name), and systemd socket activation (fd://N, LISTEN_FDS).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { assertConfigError } from '../cli/run-spry.ts';
import { SPRY_NODE_ARGS, SPRY_ROOT } from '../helpers/spry-command.ts';
import { startSpry, TEST_APP_ARGS } from '../helpers/spry-process.ts';
import { freePort } from '../uwsgi/helpers.ts';
import { CURL, runTool, SYSTEMD_SOCKET_ACTIVATE } from '../tools/tools.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spry-unix-'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** GET `path` over HTTP/1.1 on the unix socket at `socketPath`; status and body. */
async function getOverUnix(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => request({ socketPath, path, headers: { host: 'unix' } }, resolve).on('error', reject).end());
  let body = '';
  for await (const chunk of res) body += chunk;
  return { status: res.statusCode ?? 0, body };
}

describe('--http on a unix socket path', () => {
  it('serves HTTP/1.1 (node:http and curl --unix-socket) and h2c, gives the file --chmod-socket\'s mode, and --vacuum leaves nothing behind', async () => {
    const socketPath = join(dir, 'http.sock');
    const spry = await startSpry(['--http', socketPath, '--chmod-socket=660', '--vacuum', ...TEST_APP_ARGS]);
    try {
      assert.equal(spry.listener('http').path, socketPath);
      assert.equal(statSync(socketPath).mode & 0o777, 0o660);
      const env = JSON.parse((await getOverUnix(socketPath, '/environ.json')).body) as Record<string, string>;
      assert.equal(env.REQUEST_METHOD, 'GET');
      assert.equal(env.SERVER_PROTOCOL, 'HTTP/1.1');
      if (!CURL.skip) {
        const curl = await runTool(CURL, ['-s', '--unix-socket', socketPath, 'http://unix/status/204', '-o', '/dev/null', '-w', '%{http_code}'], { timeoutMs: 10_000 });
        assert.equal(curl.stdout.toString(), '204');
      }
      const session = http2Connect('http://unix', { createConnection: () => netConnect(socketPath) });
      const stream = session.request({ ':path': '/environ.json' });
      let body = '';
      stream.setEncoding('utf8');
      for await (const chunk of stream) body += chunk;
      session.close();
      assert.equal((JSON.parse(body) as Record<string, string>).SERVER_PROTOCOL, 'HTTP/2.0');
    } finally {
      assert.equal(await spry.stop(), 0);
    }
    assert.equal(existsSync(socketPath), false, '--vacuum removed the socket file');
  });

  it('replaces a stale socket file a dead process left, and refuses a live socket and a file that is not a socket (exit 2)', async () => {
    const stale = join(dir, 'stale.sock');
    // A process that dies by SIGKILL leaves its socket file behind, with nobody accepting on it.
    const dead = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(dead.stdout!, 'data');
    dead.kill('SIGKILL');
    await once(dead, 'exit');
    assert.equal(existsSync(stale), true);
    const spry = await startSpry(['--http', stale, ...TEST_APP_ARGS]);
    try {
      assert.equal((await getOverUnix(stale, '/status/200')).status, 200);
      await assertConfigError(['--http', stale, ...TEST_APP_ARGS], `--http: ${stale}: cannot listen on ${stale} (EADDRINUSE: a process is accepting on it)`);
    } finally {
      await spry.stop();
    }
    const regular = join(dir, 'regular-file');
    await writeFile(regular, 'not a socket');
    await assertConfigError(['--http', regular, ...TEST_APP_ARGS], `--http: ${regular}: ${regular} exists and is not a socket`);
  });

  it('serves a Linux abstract socket named @name', async () => {
    const name = `spry-test-${process.pid}-${Date.now()}`;
    const spry = await startSpry(['--http', `@${name}`, ...TEST_APP_ARGS]);
    try {
      assert.equal(spry.listener('http').path, `@${name}`);
      assert.equal((await getOverUnix(`\0${name}`, '/status/202')).status, 202);
    } finally {
      await spry.stop();
    }
  });

  it('--chown-socket gives the file its owner', { skip: process.getuid?.() === 0 ? false : 'needs root to give a file away' }, async () => {
    const socketPath = join(dir, 'owned.sock');
    const spry = await startSpry(['--http', socketPath, '--chown-socket', 'nobody:nogroup', ...TEST_APP_ARGS]);
    try {
      const { uid, gid } = statSync(socketPath);
      const [nobodyUid, nogroupGid] = (await import('node:fs')).readFileSync('/etc/passwd', 'utf8').split('\n').find((line) => line.startsWith('nobody:'))!.split(':').slice(2, 4).map(Number);
      assert.equal(uid, nobodyUid);
      assert.ok(gid === nogroupGid || gid > 0);
    } finally {
      await spry.stop();
    }
  });
});

describe('TLS and uwsgi listeners on unix sockets', () => {
  it('--https2 addr=PATH speaks TLS with ALPN on the socket', async () => {
    const socketPath = join(dir, 'tls.sock');
    const spry = await startSpry(['--https2', `addr=${socketPath}`, ...TEST_APP_ARGS]);
    try {
      const socket = tlsConnect({ path: socketPath, ALPNProtocols: ['h2'], rejectUnauthorized: false, servername: 'localhost' });
      await once(socket, 'secureConnect');
      assert.equal(socket.alpnProtocol, 'h2');
      const session = http2Connect('https://localhost', { createConnection: () => socket });
      const stream = session.request({ ':path': '/status/201' });
      const [headers] = (await once(stream, 'response')) as [Record<string, unknown>];
      stream.resume();
      assert.equal(headers[':status'], 201);
      session.close();
    } finally {
      await spry.stop();
    }
  });

  it('--shared-socket PATH bound by a master, served by its workers through =0', async () => {
    const socketPath = join(dir, 'shared.sock');
    const spry = await startSpry(['--shared-socket', socketPath, '--http', '=0', '-p', '2', ...TEST_APP_ARGS]);
    try {
      for (let i = 0; i < 4; i++) assert.equal((await getOverUnix(socketPath, '/status/200')).status, 200);
    } finally {
      assert.equal(await spry.stop(), 0);
    }
  });
});

describe('--http-to an HTTP backend on a unix socket', () => {
  it('forwards to http+unix:/path, and names it in X-Forwarded-* as for TCP backends', async () => {
    const backendPath = join(dir, 'backend.sock');
    const { createServer } = await import('node:http');
    const backend = createServer((req, res) => res.end(JSON.stringify({ url: req.url, forwardedFor: req.headers['x-forwarded-for'] })));
    await new Promise<void>((resolve) => backend.listen(backendPath, resolve));
    const spry = await startSpry(['--http', '127.0.0.1:0', '--http-to', `http+unix:${backendPath}`]);
    try {
      const response = await fetch(`http://127.0.0.1:${spry.listener('http').port}/via/unix?x=1`);
      assert.deepEqual(await response.json(), { url: '/via/unix?x=1', forwardedFor: '127.0.0.1' });
    } finally {
      await spry.stop();
      await new Promise((resolve) => backend.close(resolve));
    }
    await assertConfigError(['--http', '127.0.0.1:0', '--http-to', 'http+unix:nowhere'], '--http-to: "http+unix:nowhere": expected http+unix:/path/to/socket');
  });
});

/** systemd-socket-activate -l 127.0.0.1:PORT spry ARGS: it binds, and starts spry on the first connection. */
async function activated(args: readonly string[]): Promise<{ port: number; stderr: () => string; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(SYSTEMD_SOCKET_ACTIVATE.path!, ['-l', `127.0.0.1:${port}`, process.execPath, ...SPRY_NODE_ARGS, ...args], { cwd: SPRY_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  while (!/Listening on/.test(stderr)) {
    if (child.exitCode !== null) throw new Error(`systemd-socket-activate exited: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    port,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    },
  };
}

describe('systemd socket activation', { skip: SYSTEMD_SOCKET_ACTIVATE.skip }, () => {
  it('serves on the socket systemd-socket-activate passes as fd://3 (LISTEN_FDS, LISTEN_PID)', async () => {
    const systemd = await activated(['--http', 'fd://3', ...TEST_APP_ARGS]);
    try {
      const response = await fetch(`http://127.0.0.1:${systemd.port}/environ.json`);
      const env = (await response.json()) as Record<string, string>;
      assert.equal(env.SERVER_PORT, String(systemd.port));
      assert.match(systemd.stderr(), new RegExp(`serving .* on http://127\\.0\\.0\\.1:${systemd.port} `));
    } finally {
      await systemd.stop();
    }
  });

  it('refuses an fd://N systemd did not pass with one line naming what it did pass (exit 2)', async () => {
    const systemd = await activated(['--http', 'fd://4', ...TEST_APP_ARGS]);
    try {
      await fetch(`http://127.0.0.1:${systemd.port}/`).catch(() => {}); // starts spry, which refuses
      while (!/spry: /.test(systemd.stderr())) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.match(systemd.stderr(), /spry: --http: fd:\/\/4: systemd passed 1 socket\(s\), descriptors 3; fd:\/\/4 is not one of them/);
    } finally {
      await systemd.stop();
    }
  });

  it('refuses an inherited descriptor that is not a listening socket with one line (exit 2)', async () => {
    await assertConfigError(['--http', 'fd://0', ...TEST_APP_ARGS], /^spry: --http: fd:\/\/0: cannot listen on inherited descriptor 0 /);
  });
});
