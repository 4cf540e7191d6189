// The seed's three commands (../shared/reference/uwsgi-spdy-router.rst), exactly as written but
// for addresses, files and the user: `--module werkzeug.testapp:test_app` names a Python app,
// which spry runs under its own uWSGI workers (Debian's uwsgi-core, uwsgi-plugin-python3 and
// python3-werkzeug), and the page Werkzeug renders shows what uWSGI's SPDY router documents.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectClient, type ProtocolName } from '../helpers/protocol-clients.ts';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';
import { SKIP_WERKZEUG, tempDir, werkzeugEnviron, within, writeCertificate } from '../uwsgi/helpers.ts';
import { treeForDroppedUser } from '../master/readable-tree.ts';
import { reportedWorkerPids, uidOf } from './helpers.ts';

const IS_ROOT = process.getuid?.() === 0;
const SKIP_UID = SKIP_WERKZEUG || (IS_ROOT ? false : '--uid needs root');
const NOBODY = 65534;

let dir: Awaited<ReturnType<typeof tempDir>>;
let files: { cert: string; key: string };
const running: SpryProcess[] = [];

async function page(protocol: ProtocolName, port: number, paths: readonly string[]): Promise<Record<string, string>[]> {
  const client = await connectClient(protocol, { host: '127.0.0.1', port });
  try {
    const envs: Record<string, string>[] = [];
    for (const path of paths) {
      const response = await client.request({ path });
      assert.equal(response.status, 200);
      assert.match(response.body.toString(), /<title>WSGI Information<\/title>/);
      envs.push(werkzeugEnviron(response.body.toString()));
    }
    return envs;
  } finally {
    await within(3_000, client.close(), 'closing the client').catch(() => {});
  }
}

/** `asDroppedUser`: run from a copy of spry and Node that nobody can read and execute
 * (treeForDroppedUser): the Node running the tests may sit under root's 0700 home (npx's cache). */
async function run(args: readonly string[], asDroppedUser = false): Promise<SpryProcess> {
  const tree = asDroppedUser ? treeForDroppedUser() : undefined;
  const spry = await startSpry(args, { startTimeoutMs: 40_000, ...(tree && { command: [tree.node, ...tree.nodeArgs], cwd: tree.root }) });
  running.push(spry);
  return spry;
}

before(async () => {
  if (SKIP_WERKZEUG) return;
  dir = await tempDir('spry-wsgi-seed-');
  files = await writeCertificate(dir.path);
});

after(async () => {
  await Promise.all(running.map((spry) => spry.stop()));
  await dir?.remove();
});

describe('uwsgi --https2 addr=…,cert=…,key=…,spdy=1 --module werkzeug.testapp:test_app', { skip: SKIP_WERKZEUG, timeout: 90_000 }, () => {
  let spry: SpryProcess;
  before(async () => {
    spry = await run(['--https2', `addr=127.0.0.1:0,cert=${files.cert},key=${files.key},spdy=1`, '--module', 'werkzeug.testapp:test_app']);
  });

  for (const protocol of ['spdy/3', 'spdy/3.1', 'spdy/2'] as const) {
    test(`over ${protocol} the page Werkzeug renders shows SPDY on, version ${protocol.slice(5)} and the odd stream id`, async () => {
      const [first, second] = await page(protocol, spry.listener('https').port, ['/', '/?again=1']);
      assert.equal(first.SPDY, 'on');
      assert.equal(first['SPDY.version'], protocol.slice(5));
      assert.equal(first['SPDY.stream'], '1');
      assert.equal(second['SPDY.stream'], '3');
      assert.equal(first.HTTPS, 'on');
    });
  }

  test('over h2 the page shows HTTP2 and its stream, and no SPDY variables', async () => {
    const [env] = await page('h2', spry.listener('https').port, ['/']);
    assert.equal(env.HTTP2, 'on');
    assert.equal(env['HTTP2.stream'], '1');
    assert.equal(env.SERVER_PROTOCOL, 'HTTP/2.0');
    for (const key of ['SPDY', 'SPDY.version', 'SPDY.stream']) assert.equal(env[key], undefined, key);
  });

  test('the app runs under uWSGI (a worker spry started), not in Node', async () => {
    const [pid] = reportedWorkerPids(spry.stderr());
    assert.ok(pid !== undefined, spry.stderr());
    const [env] = await page('http/1.1', spry.listener('https').port, ['/']);
    assert.match(env['uwsgi.version'] ?? '', /^b?'?2\./);
  });
});

describe('uwsgi --shared-socket :443 --https2 addr==0,… --module werkzeug.testapp:test_app --uid user', { skip: SKIP_UID, timeout: 90_000 }, () => {
  test('serves the page over spdy/3 from the shared socket, the uWSGI worker running as the user', async () => {
    const spry = await run(['--shared-socket', '127.0.0.1:0', '--https2', `addr==0,cert=${files.cert},key=${files.key},spdy=1`, '--module', 'werkzeug.testapp:test_app', '--uid', 'nobody'], true);
    const [env] = await page('spdy/3', spry.listener('https').port, ['/']);
    assert.equal(env.SPDY, 'on');
    assert.equal(env['SPDY.stream'], '1');
    const pids = reportedWorkerPids(spry.stderr());
    assert.equal(pids.length, 1);
    assert.equal(uidOf(pids[0]), NOBODY);
  });
});

describe('uwsgi --shared-socket :80 --shared-socket :443 --http =0 --https2 addr==1,… --module werkzeug.testapp:test_app --uid user', { skip: SKIP_UID, timeout: 90_000 }, () => {
  test('serves the page over plain HTTP on =0 and over spdy/3.1 on =1', async () => {
    const spry = await run(['--shared-socket', '127.0.0.1:0', '--shared-socket', '127.0.0.1:0', '--http', '=0', '--https2', `addr==1,cert=${files.cert},key=${files.key},spdy=1`, '--module', 'werkzeug.testapp:test_app', '--uid', 'nobody'], true);
    const plain = await fetch(`http://127.0.0.1:${spry.listener('http').port}/`);
    assert.equal(plain.status, 200);
    const plainEnv = werkzeugEnviron(await plain.text());
    assert.equal(plainEnv.SPDY, undefined);
    assert.equal(plainEnv['wsgi.url_scheme'], 'http');
    const [env] = await page('spdy/3.1', spry.listener('https').port, ['/']);
    assert.equal(env.SPDY, 'on');
    assert.equal(env['SPDY.version'], '3.1');
    assert.equal(uidOf(reportedWorkerPids(spry.stderr())[0]), NOBODY);
  });
});
