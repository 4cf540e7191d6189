// Upgraded connections in the access log, the stats and /metrics: one line per WebSocket, written
// when it closes, with the status the client saw, the bytes each way and the backend for forwarded
// ones, over HTTP/1.1 (the `ws` client, plain and TLS) and h2/h2c (RFC 8441 extended CONNECT);
// a refused upgrade is an ordinary line; the open-upgrades gauge and the upgrades counter are what
// was done. Also the 400s the HTTP/1.1 front end sends by itself: node:http's parser refusing a
// malformed head, and spry's own strict-head refusals, are counted and logged.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';
import { PROMTOOL } from '../tools/tools.ts';
import { freePort, plainRequest, SKIP_UWSGI_PYTHON, startPeer, startUwsgi, WSGI_WEBSOCKET } from '../uwsgi/helpers.ts';
import { echo, H2WebSocket, openWs } from '../websocket/ws-helpers.ts';
import { linesOf, promtoolCheck, readStats, statsWhen, tempDir } from './helpers.ts';

const WS_APP = ['--module', './test/fixtures/ws-app.ts:server'] as const;
const WS_BACKEND = new URL('../fixtures/ws-backend.ts', import.meta.url).pathname;

type Line = { method: string; uri: string; protocol: string; stream: number; status: number; rsize: number; hsize: number; size: number; cl: number; upgrade: string | null; backend: string | null; msecs: number };

// What the echo app's frames weigh: a server frame is 2 bytes of header and its payload; a
// client's is masked, 2 + 4 bytes of header. An empty close frame is 2 bytes from the server, 6
// from the client.
const serverFrame = (payload: string): number => 2 + Buffer.byteLength(payload);
const clientFrame = (payload: string): number => 6 + Buffer.byteLength(payload);

async function closeWs(ws: WebSocket): Promise<void> {
  ws.close();
  await once(ws, 'close');
}

/** The status a `ws` client got instead of a 101. */
async function refusedWith(url: string): Promise<number> {
  const ws = new WebSocket(url, { rejectUnauthorized: false });
  ws.on('error', () => {});
  try {
    const [, res] = (await once(ws, 'unexpected-response', { signal: AbortSignal.timeout(10_000) })) as [unknown, IncomingMessage];
    res.resume();
    return res.statusCode!;
  } finally {
    ws.terminate();
  }
}

async function jsonLines(path: string, count: number): Promise<Line[]> {
  return (await linesOf(path, count)).map((line) => JSON.parse(line) as Line);
}

/** What the file holds now, without waiting. */
async function linesNow(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8').catch(() => '')).split('\n').filter((line) => line !== '');
}

describe('in-process WebSockets get one access line each, when they close', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let spry: SpryProcess;
  let statsPort: number;
  let metricsPort: number;
  before(async () => {
    dir = await tempDir();
    statsPort = await freePort();
    metricsPort = await freePort();
    spry = await startSpry(['--https2', 'addr=127.0.0.1:0', '--http', '127.0.0.1:0', ...WS_APP, '--logto', dir.file('ws.log'), '--log-format', 'json', '--stats', `127.0.0.1:${statsPort}`, '--metrics', `127.0.0.1:${metricsPort}`]);
  });
  after(async () => {
    await spry.stop();
    await dir.remove();
  });

  test('ws:// and wss:// (HTTP/1.1 upgrades): status 101, the bytes each way after the heads, open in the stats until closed', async () => {
    const urls = [`ws://127.0.0.1:${spry.listener('http').port}/chat?room=1`, `wss://127.0.0.1:${spry.listener('https').port}/chat?room=2`];
    for (const [i, url] of urls.entries()) {
      const ws = await openWs(url);
      assert.equal(await echo(ws, 'hello'), 'echo hello HTTP/1.1');
      const open = await statsWhen(statsPort, (stats) => stats.protocols['http/1.1']?.upgrades === 1);
      assert.equal(open.protocols['http/1.1'].upgrades, 1, 'the open WebSocket is in the gauge');
      assert.equal((await linesNow(dir.file('ws.log'))).length, i, 'no line while it is open');
      await closeWs(ws);
      const lines = await jsonLines(dir.file('ws.log'), i + 1);
      assert.equal(lines.length, i + 1);
      const line = lines[i];
      assert.deepEqual(
        { method: line.method, uri: line.uri, protocol: line.protocol, stream: line.stream, status: line.status, upgrade: line.upgrade, backend: line.backend },
        { method: 'GET', uri: new URL(url).pathname + new URL(url).search, protocol: 'http/1.1', stream: 0, status: 101, upgrade: 'websocket', backend: null },
      );
      // Out: the echo and the close frame answering the client's; in: the message and the close.
      assert.equal(line.rsize, serverFrame('echo hello HTTP/1.1') + serverFrame(''));
      assert.equal(line.cl, clientFrame('hello') + clientFrame(''));
      assert.ok(line.hsize > 'HTTP/1.1 101 Switching Protocols\r\n\r\n'.length, 'the 101 head is %(hsize)');
      assert.equal(line.size, line.rsize + line.hsize);
    }
    const closed = await statsWhen(statsPort, (stats) => stats.protocols['http/1.1'].upgrades === 0);
    assert.equal(closed.protocols['http/1.1'].upgrades, 0);
    assert.equal(closed.protocols['http/1.1'].upgradesTotal, 2);
    assert.deepEqual(closed.protocols['http/1.1'].statusClasses, { '1xx': 2 });
  });

  test('h2 and h2c extended CONNECT: status 200 as the client saw it, method CONNECT, the stream id, bytes each way', async () => {
    const origins = [`https://127.0.0.1:${spry.listener('https').port}`, `http://127.0.0.1:${spry.listener('http').port}`];
    const before = (await linesNow(dir.file('ws.log'))).length;
    for (const [i, origin] of origins.entries()) {
      const ws = await H2WebSocket.open(origin, '/tunnel');
      assert.equal(ws.response[':status'], 200);
      ws.send('hello');
      assert.equal(await ws.receive(), 'echo hello HTTP/2.0');
      const protocol = i === 0 ? 'h2' : 'h2c';
      assert.equal((await statsWhen(statsPort, (stats) => stats.protocols[protocol]?.upgrades === 1)).protocols[protocol].upgrades, 1);
      assert.equal((await linesNow(dir.file('ws.log'))).length, before + i, 'no line while the tunnel is open');
      ws.close();
      const line = (await jsonLines(dir.file('ws.log'), before + i + 1))[before + i];
      assert.deepEqual(
        { method: line.method, uri: line.uri, protocol: line.protocol, stream: line.stream, status: line.status, upgrade: line.upgrade },
        { method: 'CONNECT', uri: '/tunnel', protocol, stream: 1, status: 200, upgrade: 'websocket' },
      );
      // The client went away without a close frame: out is the echo, in the message.
      assert.equal(line.rsize, serverFrame('echo hello HTTP/2.0'));
      assert.equal(line.cl, clientFrame('hello'));
    }
    const stats = await statsWhen(statsPort, (s) => s.protocols.h2.upgrades === 0 && s.protocols.h2c.upgrades === 0);
    assert.deepEqual([stats.protocols.h2.upgrades, stats.protocols.h2.upgradesTotal, stats.protocols.h2c.upgrades, stats.protocols.h2c.upgradesTotal], [0, 1, 0, 1]);
  });

  test('a refused upgrade (ws answers 400 to a WebSocket version it does not speak) is an ordinary line, not an upgrade', async () => {
    const before = (await linesNow(dir.file('ws.log'))).length;
    const total = (await readStats(statsPort)).protocols['http/1.1'].upgradesTotal;
    // By hand: the `ws` client always says version 13.
    const answer = await rawExchange(spry.listener('http').port, 'GET /old HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 7\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 400 /);
    const line = (await jsonLines(dir.file('ws.log'), before + 1))[before];
    assert.deepEqual([line.uri, line.status, line.upgrade], ['/old', 400, null]);
    assert.ok(line.rsize > 0, 'the refusal\'s body is its %(rsize)');
    assert.equal((await readStats(statsPort)).protocols['http/1.1'].upgradesTotal, total);
  });

  test('/metrics has the upgrades gauge and counter by protocol, and promtool accepts it', { skip: PROMTOOL.skip }, async () => {
    const text = (await plainRequest(metricsPort, '/metrics')).body.toString('utf8');
    assert.match(text, /^spry_upgrades_total\{protocol="http\/1\.1"\} 2$/m);
    assert.match(text, /^spry_upgrades_total\{protocol="h2"\} 1$/m);
    assert.match(text, /^spry_upgrades_open\{protocol="h2c"\} 0$/m);
    const check = await promtoolCheck(PROMTOOL.path!, text);
    assert.equal(check.code, 0, check.output);
    assert.equal(check.output.trim(), '');
  });
});

describe('forwarded WebSockets name their backend', () => {
  test('an HTTP/1.1 upgrade and an h2 extended CONNECT through --http-to, and a refusal the backend sent', async () => {
    const dir = await tempDir();
    const backend = await startPeer('ws backend', process.execPath, ['--conditions=spry-source', WS_BACKEND, 'alpha'], { ready: /listening (\d+)/ });
    let spry: SpryProcess | undefined;
    try {
      const label = `127.0.0.1:${Number(backend.match![1])}`;
      spry = await startSpry(['--https2', 'addr=127.0.0.1:0', '--http-to', `http://${label}`, '--logto', dir.file('fwd.log'), '--log-format', 'json']);
      const port = spry.listener('https').port;
      const ws = await openWs(`wss://127.0.0.1:${port}/echo`);
      assert.equal(await echo(ws, 'one'), 'alpha one websocket');
      await closeWs(ws);
      const h2 = await H2WebSocket.open(`https://127.0.0.1:${port}`, '/echo');
      h2.send('two');
      assert.equal(await h2.receive(), 'alpha two websocket');
      h2.close();
      assert.equal(await refusedWith(`wss://127.0.0.1:${port}/refuse`), 400);
      const lines = await jsonLines(dir.file('fwd.log'), 3);
      assert.deepEqual(
        lines.map(({ method, uri, protocol, status, upgrade, backend }) => ({ method, uri, protocol, status, upgrade, backend })),
        [
          { method: 'GET', uri: '/echo', protocol: 'http/1.1', status: 101, upgrade: 'websocket', backend: `http://${label}` },
          { method: 'CONNECT', uri: '/echo', protocol: 'h2', status: 200, upgrade: 'websocket', backend: `http://${label}` },
          { method: 'GET', uri: '/refuse', protocol: 'http/1.1', status: 400, upgrade: null, backend: `http://${label}` },
        ],
      );
      assert.equal(lines[0].rsize, serverFrame('alpha one websocket') + serverFrame(''));
      assert.equal(lines[0].cl, clientFrame('one') + clientFrame(''));
      assert.equal(lines[1].rsize, serverFrame('alpha two websocket'));
      assert.equal(lines[1].cl, clientFrame('two'));
    } finally {
      await spry?.stop();
      await backend.stop();
      await dir.remove();
    }
  });
});

describe('WebSockets forwarded to uWSGI\'s websocket API over uwsgi name their backend', { skip: SKIP_UWSGI_PYTHON }, () => {
  test('one line with the uwsgi node, status 101 and the bytes each way', async () => {
    const dir = await tempDir();
    const port = await freePort();
    const uwsgi = await startUwsgi(WSGI_WEBSOCKET, `127.0.0.1:${port}`, dir.path);
    let spry: SpryProcess | undefined;
    try {
      spry = await startSpry(['--https2', 'addr=127.0.0.1:0', '--http-to', `127.0.0.1:${port}`, '--logto', dir.file('uwsgi.log'), '--log-format', 'json']);
      const ws = await openWs(`wss://127.0.0.1:${spry.listener('https').port}/echo`);
      assert.equal(await echo(ws, 'one'), 'echo one websocket');
      ws.terminate();
      const lines = await jsonLines(dir.file('uwsgi.log'), 1);
      assert.deepEqual(
        lines.map(({ uri, protocol, status, upgrade, backend, rsize, cl }) => ({ uri, protocol, status, upgrade, backend, rsize, cl })),
        [{ uri: '/echo', protocol: 'http/1.1', status: 101, upgrade: 'websocket', backend: `127.0.0.1:${port}`, rsize: serverFrame('echo one websocket'), cl: clientFrame('one') }],
      );
    } finally {
      await spry?.stop();
      await uwsgi.stop();
      await dir.remove();
    }
  });
});

/** Writes `bytes` on a plain connection and resolves with all that came back before it closed. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** What a bare node:http server of the running Node answers to `bytes`. */
async function nodeHttpAnswer(bytes: string): Promise<string> {
  const server = createServer((_req, res) => res.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await rawExchange((server.address() as AddressInfo).port, bytes);
  } finally {
    server.close();
  }
}

describe('the 400s the HTTP/1.1 front end sends by itself are counted and logged', () => {
  test('a head node:http\'s parser refuses gets node:http\'s own answer, a protocol error under its code, a 4xx and an access line', async () => {
    const dir = await tempDir();
    const statsPort = await freePort();
    const spry = await startSpry(['--http', '127.0.0.1:0', ...WS_APP, '--logto', dir.file('bad.log'), '--log-format', 'json', '--stats', `127.0.0.1:${statsPort}`]);
    try {
      const malformed = 'GET /broken?x=1 HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n';
      assert.equal(await rawExchange(spry.listener('http').port, malformed), await nodeHttpAnswer(malformed));
      // Two Host headers: node:http takes it, spry refuses it (RFC 9112 §3.2).
      const twoHosts = 'GET /twice HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n';
      assert.match(await rawExchange(spry.listener('http').port, twoHosts), /^HTTP\/1\.1 400 /);
      const lines = await jsonLines(dir.file('bad.log'), 2);
      assert.deepEqual(lines.map(({ method, uri, protocol, status, rsize }) => ({ method, uri, protocol, status, rsize: rsize > 0 })), [
        { method: 'GET', uri: '/broken?x=1', protocol: 'http/1.1', status: 400, rsize: false },
        { method: 'GET', uri: '/twice', protocol: 'http/1.1', status: 400, rsize: true },
      ]);
      const stats = await readStats(statsPort);
      assert.deepEqual(stats.protocols['http/1.1'].errors, { HPE_INVALID_HEADER_TOKEN: 1, SPRY_ERR_BAD_AUTHORITY: 1 });
      assert.deepEqual(stats.protocols['http/1.1'].statusClasses, { '4xx': 2 });
    } finally {
      await spry.stop();
      await dir.remove();
    }
  });
});

describe('spry\'s default line for an upgrade', () => {
  test('says what the connection became and the bytes each way', async () => {
    const dir = await tempDir();
    const spry = await startSpry(['--http', '127.0.0.1:0', ...WS_APP, '--logto', dir.file('default.log')]);
    try {
      const ws = await openWs(`ws://127.0.0.1:${spry.listener('http').port}/chat`);
      assert.equal(await echo(ws, 'hi'), 'echo hi HTTP/1.1');
      await closeWs(ws);
      const [line] = await linesOf(dir.file('default.log'), 1);
      const out = serverFrame('echo hi HTTP/1.1') + serverFrame('');
      const into = clientFrame('hi') + clientFrame('');
      assert.match(line, new RegExp(`^127\\.0\\.0\\.1 \\[[^\\]]+\\] GET /chat http/1\\.1 => 101 websocket, ${out} bytes out, ${into} in, \\d+\\.\\d{3} ms \\(worker 1\\)$`));
    } finally {
      await spry.stop();
      await dir.remove();
    }
  });
});
