// The access log on every protocol and front end: one line per request, with the protocol as
// negotiated, the stream, the status and the sizes; --log-format lines exactly as formatted;
// JSON lines that parse whatever the client sent; reopening after logrotate; bad values refused.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { connect as http2Connect } from 'node:http2';
import { rename } from 'node:fs/promises';
import { utimesSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { connectClient, type ProtocolName } from '../helpers/protocol-clients.ts';
import { SPRY_NODE_ARGS, SPRY_ROOT } from '../helpers/spry-command.ts';
import { startSpry, TEST_APP_ARGS, type SpryProcess } from '../helpers/spry-process.ts';
import { freePort, plainRequest } from '../uwsgi/helpers.ts';
import { linesOf, tempDir, uwsgiGet } from './helpers.ts';

/** One GET over h2c with prior knowledge; the body. */
export async function h2cGet(port: number, path: string, headers: Record<string, string> = {}): Promise<Buffer> {
  const session = http2Connect(`http://127.0.0.1:${port}`);
  try {
    const stream = session.request({ ':path': path, ...headers });
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    await once(stream, 'end');
    return Buffer.concat(chunks);
  } finally {
    session.close();
  }
}

type JsonLine = { protocol: string; stream: number; status: number; rsize: number; method: string; uri: string; backend: string | null; uagent: string; referer: string; addr: string; wid: number; cl: number };

describe('the access log writes one line per request on every protocol', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let spry: SpryProcess;
  before(async () => {
    dir = await tempDir();
    spry = await startSpry(['--https2', 'addr=127.0.0.1:0,spdy=1', '--http', '127.0.0.1:0', ...TEST_APP_ARGS, '--logto', dir.file('access.log'), '--log-format', 'json']);
  });
  after(async () => {
    await spry.stop();
    await dir.remove();
  });

  test('h2, spdy/3.1, spdy/3, spdy/2 and http/1.1 over TLS, then http/1.1 and h2c in plain, each with its status and body size', async () => {
    const https = spry.listener('https');
    const expected: { protocol: string; stream: number; status: number; rsize: number; uri: string }[] = [];
    for (const protocol of ['h2', 'spdy/3.1', 'spdy/3', 'spdy/2', 'http/1.1'] as ProtocolName[]) {
      const client = await connectClient(protocol, https);
      const first = await client.request({ path: '/bytes?n=1234' });
      const second = await client.request({ path: '/status/404' });
      await client.close();
      assert.equal(first.body.length, 1234);
      const streams = protocol === 'http/1.1' ? [0, 0] : protocol === 'h2' ? [1, 3] : [1, 3];
      expected.push({ protocol, stream: streams[0], status: 200, rsize: 1234, uri: '/bytes?n=1234' });
      expected.push({ protocol, stream: streams[1], status: 404, rsize: second.body.length, uri: '/status/404' });
    }
    const http = spry.listener('http');
    const plain = await plainRequest(http.port, '/bytes?n=77');
    assert.equal(plain.status, 200);
    expected.push({ protocol: 'http/1.1', stream: 0, status: 200, rsize: 77, uri: '/bytes?n=77' });
    assert.equal((await h2cGet(http.port, '/bytes?n=5')).length, 5);
    expected.push({ protocol: 'h2c', stream: 1, status: 200, rsize: 5, uri: '/bytes?n=5' });
    const lines = (await linesOf(dir.file('access.log'), expected.length)).map((line) => JSON.parse(line) as JsonLine);
    assert.deepEqual(
      lines.map(({ protocol, stream, status, rsize, uri }) => ({ protocol, stream, status, rsize, uri })),
      expected,
    );
    assert.ok(lines.every((line) => line.method === 'GET' && line.addr === '127.0.0.1' && line.wid === 1 && line.backend === null));
  });
});

describe('uwsgi --socket and forwarded requests are logged on both sides', () => {
  test('the app behind --socket logs protocol uwsgi; the router in front logs its backend', async () => {
    const dir = await tempDir();
    const socketPort = await freePort();
    const app = await startSpry(['--socket', `127.0.0.1:${socketPort}`, '--http', '127.0.0.1:0', ...TEST_APP_ARGS, '--logto', dir.file('app.log'), '--log-format', 'json']);
    const router = await startSpry(['--http', '127.0.0.1:0', '--http-to', `127.0.0.1:${socketPort}`, '--logto', dir.file('router.log'), '--log-format', 'json']);
    try {
      const response = await plainRequest(router.listener('http').port, '/bytes?n=300');
      assert.equal(response.status, 200);
      // And one uwsgi request straight from a "router" of our own.
      const raw = await uwsgiGet(socketPort, '/status/204');
      assert.match(raw, /^HTTP\/1\.1 204/);
      const [forwarded, direct] = (await linesOf(dir.file('app.log'), 2)).map((line) => JSON.parse(line) as JsonLine);
      assert.deepEqual([forwarded.protocol, forwarded.status, forwarded.rsize, forwarded.uri], ['uwsgi', 200, 300, '/bytes?n=300']);
      assert.deepEqual([direct.protocol, direct.status, direct.uri], ['uwsgi', 204, '/status/204']);
      const [routed] = (await linesOf(dir.file('router.log'), 1)).map((line) => JSON.parse(line) as JsonLine);
      assert.deepEqual([routed.protocol, routed.status, routed.rsize, routed.backend], ['http/1.1', 200, 300, `127.0.0.1:${socketPort}`]);
    } finally {
      await router.stop();
      await app.stop();
      await dir.remove();
    }
  });
});

describe('--log-format and JSON lines', () => {
  test('a --log-format line is exactly the template with the request\'s values', async () => {
    const dir = await tempDir();
    const format = '%(addr) "%(method) %(uri) %(proto)" %(status) %(rsize) %(cl) host=%(host) ref=%(referer) ua=%(uagent) %(protocol)#%(stream) wid=%(wid) pid=%(pid) backend=%(backend)';
    const spry = await startSpry(['--http', '127.0.0.1:0', ...TEST_APP_ARGS, '--logto', dir.file('a.log'), '--logformat', format]);
    try {
      const port = spry.listener('http').port;
      await plainRequest(port, '/bytes?n=42', { headers: { referer: 'https://example.test/', 'user-agent': 'probe/1.0' } });
      const [line] = await linesOf(dir.file('a.log'), 1);
      assert.equal(line, `127.0.0.1 "GET /bytes?n=42 HTTP/1.1" 200 42 0 host=127.0.0.1:${port} ref=https://example.test/ ua=probe/1.0 http/1.1#0 wid=1 pid=${spry.child.pid} backend=-`);
    } finally {
      await spry.stop();
      await dir.remove();
    }
  });

  test('JSON lines parse back to what the client sent: quotes, backslashes, control bytes and non-ASCII included', async () => {
    const dir = await tempDir();
    const socketPort = await freePort();
    // A uwsgi router may send any byte but CR, LF and NUL in a variable; h2 and HTTP/1.1 clients
    // cannot even get control bytes past node's parsers.
    const spry = await startSpry(['--socket', `127.0.0.1:${socketPort}`, '--http', '127.0.0.1:0', ...TEST_APP_ARGS, '--logto', dir.file('j.log'), '--log-format', 'json', '--log-x-forwarded-for']);
    try {
      const hostile = 'say "hi"\\ \t tab \x01\x1b[31m\x7f caf\u00e9 \u00ff';
      await uwsgiGet(socketPort, '/status/200?q=%22x%5C', { HTTP_USER_AGENT: hostile, HTTP_REFERER: '"\\', HTTP_X_FORWARDED_FOR: '203.0.113.9, 10.0.0.1' });
      const [text] = await linesOf(dir.file('j.log'), 1);
      const line = JSON.parse(text) as JsonLine;
      assert.equal(line.uagent, hostile);
      assert.equal(line.referer, '"\\');
      assert.equal(line.uri, '/status/200?q=%22x%5C');
      assert.equal(line.addr, '203.0.113.9');
      assert.doesNotMatch(text, /[\x00-\x1f]/);
    } finally {
      await spry.stop();
      await dir.remove();
    }
  });
});

test('--log-format writes control bytes in values as \\xNN, so a client cannot break or forge a line', async () => {
  const dir = await tempDir();
  const socketPort = await freePort();
  const spry = await startSpry(['--socket', `127.0.0.1:${socketPort}`, '--http', '127.0.0.1:0', ...TEST_APP_ARGS, '--logto', dir.file('x.log'), '--log-format', '%(uagent)|%(uri)']);
  try {
    await uwsgiGet(socketPort, '/status/200', { HTTP_USER_AGENT: 'a\tb\x01c\x1b[31m\x7fd caf\u00e9' });
    const [line] = await linesOf(dir.file('x.log'), 1);
    assert.equal(line, 'a\\x09b\\x01c\\x1b[31m\\x7fd caf\u00e9|/status/200');
  } finally {
    await spry.stop();
    await dir.remove();
  }
});

describe('reopening the log after logrotate renamed it', () => {
  for (const how of ['--touch-logreopen', 'SIGHUP'] as const) {
    test(`after ${how}, new lines go to a new file at the path and the renamed one keeps the old`, async () => {
      const dir = await tempDir();
      const touch = dir.file('reopen');
      utimesSync(await (await import('node:fs/promises')).writeFile(touch, '').then(() => touch), new Date(1000), new Date(1000));
      const spry = await startSpry(['--http', '127.0.0.1:0', ...TEST_APP_ARGS, '--logto', dir.file('r.log'), '--touch-logreopen', touch]);
      try {
        const port = spry.listener('http').port;
        await plainRequest(port, '/status/201');
        assert.equal((await linesOf(dir.file('r.log'), 1)).length, 1);
        await rename(dir.file('r.log'), dir.file('r.log.1'));
        if (how === 'SIGHUP') spry.child.kill('SIGHUP');
        else utimesSync(touch, new Date(), new Date());
        // Requests until one lands in the new file (the watcher polls the touch file).
        const until = Date.now() + 10_000;
        while ((await linesOf(dir.file('r.log'), 0)).length === 0 && Date.now() < until) {
          await plainRequest(port, '/status/202');
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const fresh = await linesOf(dir.file('r.log'), 1);
        assert.ok(fresh.length >= 1 && fresh.every((line) => line.includes('=> 202')));
        const old = await linesOf(dir.file('r.log.1'), 1);
        assert.match(old[0], /GET \/status\/201 http\/1\.1 => 201/);
      } finally {
        await spry.stop();
        await dir.remove();
      }
    });
  }
});

describe('bad logging and stats options', () => {
  for (const [args, message] of [
    [['--log-format', '%(addr) %(nonsense)'], /--log-format: .*unknown variable %\(nonsense\)/],
    [['--stats', 'nowhere'], /--stats: /],
    [['--metrics', ':99999'], /--metrics: /],
    [['--stats-http'], /--stats-http: .*--stats/],
    [['--logto', ''], /--logto: needs a file name/],
  ] as const) {
    test(`${args.join(' ')} is one line on stderr and exit status 2`, () => {
      const result = spawnSync(process.execPath, [...SPRY_NODE_ARGS, '--http', '127.0.0.1:0', ...TEST_APP_ARGS, ...args], { cwd: SPRY_ROOT, encoding: 'utf8', timeout: 20_000 });
      assert.equal(result.status, 2);
      assert.equal(result.stderr.trim().split('\n').length, 1);
      assert.match(result.stderr, message);
    });
  }
});

describe("the edge's own answers are logged like the app's", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let spry: SpryProcess;
  before(async () => {
    dir = await tempDir();
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(dir.file('assets'));
    await writeFile(dir.file('assets/small.txt'), 'x'.repeat(300));
    spry = await startSpry([
      '--https2', 'addr=127.0.0.1:0,spdy=1', '--http', '127.0.0.1:0', ...TEST_APP_ARGS,
      '--static-map', `/assets=${dir.file('assets')}`, '--static-cache-paths', '5', '--limit-post', '100',
      '--logto', dir.file('edge.log'), '--log-format', 'json',
    ]);
  });
  after(async () => {
    await spry.stop();
    await dir.remove();
  });

  test('static files on h2, spdy/3.1 and http/1.1 (cached and not), a 404 under the map, and a 413 from --limit-post', async () => {
    const https = spry.listener('https');
    const expected: { protocol: string; status: number; rsize: number; uri: string; method: string }[] = [];
    for (const protocol of ['h2', 'spdy/3.1', 'http/1.1'] as ProtocolName[]) {
      const client = await connectClient(protocol, https);
      for (let i = 0; i < 2; i++) {
        const file = await client.request({ path: '/assets/small.txt' });
        assert.equal(file.body.length, 300);
        expected.push({ protocol, status: 200, rsize: 300, uri: '/assets/small.txt', method: 'GET' });
      }
      const missing = await client.request({ path: '/assets/none.txt' });
      expected.push({ protocol, status: missing.status, rsize: missing.body.length, uri: '/assets/none.txt', method: 'GET' });
      await client.close();
    }
    const tooBig = await plainRequest(spry.listener('http').port, '/echo', { method: 'POST', body: Buffer.alloc(1000) });
    assert.equal(tooBig.status, 413);
    expected.push({ protocol: 'http/1.1', status: 413, rsize: tooBig.body.length, uri: '/echo', method: 'POST' });
    const lines = (await linesOf(dir.file('edge.log'), expected.length)).map((line) => JSON.parse(line) as JsonLine);
    assert.deepEqual(
      lines.map(({ protocol, status, rsize, uri, method }) => ({ protocol, status, rsize, uri, method })),
      expected,
    );
  });
});
