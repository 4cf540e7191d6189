// spry's uWSGI workers are managed, not just spawned: -p N of them sharing the load, a SIGHUP
// reload under load that answers every request, a SIGKILLed worker respawned with nothing lost,
// bodies without a length reaching the app with CONTENT_LENGTH, and startup errors as one line.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connectClient } from '../helpers/protocol-clients.ts';
import { SPRY_NODE_ARGS, SPRY_ROOT } from '../helpers/spry-command.ts';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';
import { delay, MIB, SKIP_UWSGI_PYTHON, sha256, tempDir, uploadBytes, within, writeCertificate, WSGI_ECHO } from '../uwsgi/helpers.ts';
import { describeCounts, reportedWorkerPids, runGets, type LoadCounts } from './helpers.ts';

const skip = SKIP_UWSGI_PYTHON;
const IS_ROOT = process.getuid?.() === 0;
let dir: Awaited<ReturnType<typeof tempDir>>;
let files: { cert: string; key: string };
const running: SpryProcess[] = [];

async function run(args: readonly string[]): Promise<SpryProcess> {
  const spry = await startSpry(['--http', '127.0.0.1:0', ...args], { startTimeoutMs: 40_000 });
  running.push(spry);
  return spry;
}

/** Waits (bounded) until `check` holds. */
async function eventually(what: string, check: () => boolean, limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${limitMs} ms`);
    await delay(50);
  }
}

/** spry with `workers` uWSGI workers, the first SIGKILLed under 20 GET loops: the answers until its respawn serves. */
async function killFirstWorkerUnderLoad(workers: number): Promise<{ spry: SpryProcess; victim: number; counts: LoadCounts }> {
  const spry = await run(['--wsgi-file', WSGI_ECHO, '-p', String(workers)]);
  const [victim] = reportedWorkerPids(spry.stderr());
  const respawned = (): boolean => reportedWorkerPids(spry.stderr()).length > workers;
  let killed = false;
  const load = runGets(spry.listener('http').port, { concurrency: 20, requests: 100_000, path: '/', until: () => killed && respawned() });
  await delay(300);
  process.kill(victim, 'SIGKILL');
  killed = true;
  await eventually('the respawned worker serving', respawned);
  return { spry, victim, counts: await load };
}

before(async () => {
  if (skip) return;
  dir = await tempDir('spry-wsgi-workers-');
  files = await writeCertificate(dir.path);
});

after(async () => {
  await Promise.all(running.map((spry) => spry.stop()));
  await dir?.remove();
});

describe('managed uWSGI workers', { skip, timeout: 120_000 }, () => {
  test('-p 2 runs two uWSGI workers, and requests reach both', async () => {
    const spry = await run(['-p', '2', '--wsgi-file', WSGI_ECHO]);
    assert.equal(reportedWorkerPids(spry.stderr()).length, 2);
    const counts = await runGets(spry.listener('http').port, { concurrency: 4, requests: 200, path: '/' });
    assert.equal(counts.statuses.get(200), 200, describeCounts(counts));
    assert.deepEqual([...counts.pids].sort(), reportedWorkerPids(spry.stderr()).sort());
  });

  test('SIGHUP under load starts new uWSGI workers and answers every request', async () => {
    const spry = await run(['--wsgi-file', WSGI_ECHO, '-p', '2']);
    const before = reportedWorkerPids(spry.stderr());
    let reloaded = false;
    const load = runGets(spry.listener('http').port, { concurrency: 10, requests: 100_000, path: '/', until: () => reloaded && reportedWorkerPids(spry.stderr()).length >= 4 });
    await delay(300);
    spry.child.kill('SIGHUP');
    reloaded = true;
    await eventually('the new workers serving', () => reportedWorkerPids(spry.stderr()).length >= 4);
    const counts = await load;
    assert.equal(counts.statuses.get(200), counts.total, describeCounts(counts));
    const after = reportedWorkerPids(spry.stderr()).slice(before.length);
    assert.equal(after.length, 2);
    await eventually('the old workers gone', () => before.every((pid) => !isAlive(pid)));
    const late = await runGets(spry.listener('http').port, { concurrency: 2, requests: 40, path: '/' });
    // Both new workers answer at once: the old ones' backlogs, reset as they exit, say nothing
    // about the sockets, which point at the new workers already (no socket is marked dead).
    assert.deepEqual([...late.pids].sort(), [...after].sort(), `late answers from ${[...late.pids].join(', ')}; new workers ${after.join(', ')}`);
  });

  test('a uWSGI worker killed by SIGKILL under load is respawned, and no request is lost', async () => {
    const { spry, victim, counts } = await killFirstWorkerUnderLoad(2);
    assert.equal(counts.statuses.get(200), counts.total, describeCounts(counts));
    assert.match(spry.stderr(), new RegExp(`uWSGI worker \\d \\(pid ${victim}\\) died \\(SIGKILL\\); respawning`));
  });

  test('with -p 1, requests that arrive while the only uWSGI worker is respawned wait for it, and none fails', async () => {
    const { spry, counts } = await killFirstWorkerUnderLoad(1);
    assert.equal(counts.statuses.get(200), counts.total, describeCounts(counts));
    assert.match(spry.stderr(), /no other to try; waiting up to 60 s for a respawned one/);
  });

  test('a request waits for a respawn only up to --http-timeout, then gets 502', async () => {
    const app = join(dir.path, 'soon-broken.py');
    await copyFile(WSGI_ECHO, app);
    const spry = await run(['--wsgi-file', app, '-p', '1', '--http-timeout', '1']);
    const [victim] = reportedWorkerPids(spry.stderr());
    // Every respawn now fails to load the app: no worker comes back.
    await writeFile(app, 'def application(environ, start_response):\n    return [b"x"\n');
    process.kill(victim, 'SIGKILL');
    await eventually('the failed respawn', () => /uWSGI worker 1: respawn failed/.test(spry.stderr()));
    const counts = await runGets(spry.listener('http').port, { concurrency: 2, requests: 2, path: '/' });
    assert.equal(counts.statuses.get(502), 2, describeCounts(counts));
    assert.match(spry.stderr(), /waiting up to 1 s for a respawned one/);
  });
});

describe('a body without a length reaches the WSGI app whole, with CONTENT_LENGTH', { skip, timeout: 60_000 }, () => {
  let spry: SpryProcess;
  before(async () => {
    spry = await run(['--https2', `addr=127.0.0.1:0,cert=${files.cert},key=${files.key}`, '--wsgi-file', WSGI_ECHO]);
  });

  // Larger than read-buffer (64 KiB): the rest is held in a temporary file.
  const body = uploadBytes(MIB + 12_345);
  async function* chunks(): AsyncIterable<Buffer> {
    for (let at = 0; at < body.length; at += 50_000) yield body.subarray(at, at + 50_000);
  }

  for (const protocol of ['h2', 'http/1.1'] as const) {
    test(`a chunked upload over ${protocol}`, async () => {
      const client = await connectClient(protocol, { host: '127.0.0.1', port: spry.listener('https').port });
      try {
        const response = await client.request({ method: 'POST', path: '/upload', body: chunks() });
        assert.equal(response.status, 200, response.body.toString());
        const reply = JSON.parse(response.body.toString()) as { environ: Record<string, string>; body_length: number; sha256: string };
        assert.equal(reply.environ.CONTENT_LENGTH, String(body.length));
        assert.equal(reply.body_length, body.length);
        assert.equal(reply.sha256, sha256(body));
        if (protocol === 'http/1.1') assert.equal(reply.environ.HTTP_TRANSFER_ENCODING, undefined);
      } finally {
        await within(3_000, client.close(), 'closing the client').catch(() => {});
      }
    });
  }
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs the CLI to its exit (bounded): status and stderr. */
function runCli(args: readonly string[], env: NodeJS.ProcessEnv = process.env, wrap: readonly string[] = []): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const [command, ...rest] = [...wrap, process.execPath, ...SPRY_NODE_ARGS, ...args];
    const child = spawn(command, rest, { cwd: SPRY_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.once('error', reject);
    child.once('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stderr });
    });
  });
}

describe('startup errors of a Python app: one line, exit 2, nothing listening', { skip, timeout: 120_000 }, () => {
  const socketPath = (): string => join(dir.path, 'never.sock');

  test('no uwsgi binary names Debian\'s uwsgi-core', async () => {
    const { status, stderr } = await runCli(['--http', socketPath(), '--module', 'werkzeug.testapp:test_app'], { ...process.env, PATH: '/nonexistent' });
    assert.equal(status, 2, stderr);
    assert.match(stderr, /^spry: uWSGI is not installed: no uwsgi on PATH \(install Debian's uwsgi-core/);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.equal(existsSync(socketPath()), false);
  });

  test('no python3 plugin names Debian\'s uwsgi-plugin-python3', { skip: IS_ROOT ? false : 'hiding the plugin directory (unshare -m) needs root' }, async () => {
    const empty = join(dir.path, 'no-plugins');
    await writeFile(join(dir.path, 'hide.sh'), `mkdir -p ${empty} && mount --bind ${empty} /usr/lib/uwsgi/plugins && exec "$@"\n`);
    const { status, stderr } = await runCli(['--http', socketPath(), '--module', 'werkzeug.testapp:test_app'], process.env, ['unshare', '-m', 'sh', join(dir.path, 'hide.sh')]);
    assert.equal(status, 2, stderr);
    assert.match(stderr, /^spry: uWSGI's python3 plugin is not installed \(install Debian's uwsgi-plugin-python3\)/);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.equal(existsSync(socketPath()), false);
  });

  test('a module that does not import prints the Python error', async () => {
    const { status, stderr } = await runCli(['--http', socketPath(), '--module', 'werkzeug.nosuchmodule:app']);
    assert.equal(status, 2, stderr);
    assert.equal(stderr, "spry: --module werkzeug.nosuchmodule:app: the Python app does not load: ModuleNotFoundError: No module named 'werkzeug.nosuchmodule'\n");
    assert.equal(existsSync(socketPath()), false);
  });

  test('a --wsgi-file with a syntax error prints the Python error, under a master too', async () => {
    const broken = join(dir.path, 'broken.py');
    await writeFile(broken, 'def application(environ, start_response):\n    return [b"x"\n');
    const { status, stderr } = await runCli(['--http', socketPath(), '--wsgi-file', broken, '-p', '2']);
    assert.equal(status, 2, stderr);
    assert.match(stderr, /^spry: --wsgi-file \S+broken\.py: the Python app does not load: SyntaxError: /);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.equal(existsSync(socketPath()), false);
  });
});
