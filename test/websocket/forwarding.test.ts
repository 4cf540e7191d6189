// WebSockets through --http-to: a `ws` server behind spry over HTTP, and uWSGI's websocket API
// (uwsgi.websocket_handshake in a WSGI app) behind spry over uwsgi, each reached by the `ws`
// client (an HTTP/1.1 upgrade) and by an RFC 8441 client (an h2 extended CONNECT, which spry
// forwards as an ordinary upgrade). Refusals come back as the backend sent them; a backend
// killed mid-connection closes the client's; an open WebSocket counts as outstanding work.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';
import { freePort, SKIP_UWSGI_PYTHON, startPeer, startUwsgi, tempDir, WSGI_WEBSOCKET, type Peer } from '../uwsgi/helpers.ts';
import { echo, H2WebSocket, openWs } from './ws-helpers.ts';

const WS_BACKEND = new URL('../fixtures/ws-backend.ts', import.meta.url).pathname;
const running: { stop(): Promise<unknown> }[] = [];
after(async () => {
  await Promise.all(running.splice(0).map((peer) => peer.stop()));
});

/** A ws-backend.ts process named `name`, and its port. */
async function startWsBackend(name: string): Promise<Peer & { port: number }> {
  const peer = await startPeer(`ws backend ${name}`, process.execPath, ['--conditions=spry-source', WS_BACKEND, name], { ready: /listening (\d+)/ });
  running.push(peer);
  return Object.assign(peer, { port: Number(peer.match![1]) });
}

async function startRouter(...backends: string[]): Promise<SpryProcess> {
  const spry = await startSpry(['--https2', 'addr=127.0.0.1:0', ...backends.flatMap((backend) => ['--http-to', backend]), '--http-timeout', '20', '--http-gracetime', '1']);
  running.push(spry);
  return spry;
}

function wssUrl(spry: SpryProcess, path: string): string {
  return `wss://127.0.0.1:${spry.listener('https').port}${path}`;
}

function h2Origin(spry: SpryProcess): string {
  return `https://127.0.0.1:${spry.listener('https').port}`;
}

/** The response a `ws` client got instead of a 101, with its body. */
async function refusal(url: string): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  const ws = new WebSocket(url, { rejectUnauthorized: false });
  ws.on('error', () => {});
  const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
  let body = '';
  for await (const chunk of res) body += chunk;
  return { status: res.statusCode!, headers: res.headers, body };
}

describe('WebSockets forwarded to a ws backend over HTTP', () => {
  let spry: SpryProcess;
  before(async () => {
    const backend = await startWsBackend('alpha');
    spry = await startRouter(`http://127.0.0.1:${backend.port}`);
  });

  it('passes an HTTP/1.1 upgrade with its Upgrade header and relays the 101, then frames both ways', async () => {
    const ws = await openWs(wssUrl(spry, '/echo'));
    assert.equal(await echo(ws, 'one'), 'alpha one websocket');
    assert.equal(await echo(ws, 'two'), 'alpha two websocket');
    ws.close();
    const [code] = (await once(ws, 'close')) as [number];
    assert.equal(code, 1005, 'the backend\'s answer to the client\'s close frame came through');
  });

  it('forwards an h2 extended CONNECT as an HTTP/1.1 upgrade, its 101 becoming :status 200', async () => {
    const ws = await H2WebSocket.open(h2Origin(spry), '/echo');
    try {
      assert.equal(ws.response[':status'], 200);
      ws.send('over h2');
      assert.equal(await ws.receive(), 'alpha over h2 websocket');
      ws.send('again');
      assert.equal(await ws.receive(), 'alpha again websocket');
    } finally {
      ws.close();
    }
  });

  it('relays a refusal as the backend sent it, on HTTP/1.1 and on h2', async () => {
    const h1 = await refusal(wssUrl(spry, '/refuse'));
    assert.equal(h1.status, 400);
    assert.equal(h1.headers['x-backend'], 'alpha');
    assert.equal(h1.body, 'alpha takes no upgrade here\n');
    const h2 = await H2WebSocket.open(h2Origin(spry), '/refuse');
    try {
      assert.equal(h2.response[':status'], 400);
      assert.equal(h2.response['x-backend'], 'alpha');
      assert.equal(await h2.body(), 'alpha takes no upgrade here\n');
    } finally {
      h2.close();
    }
  });

  it('relays the backend\'s answer to an Upgrade it does not take (ws: 400 for Upgrade: foo)', async () => {
    const { request } = await import('node:https');
    const res = await new Promise<IncomingMessage>((resolve, reject) =>
      request({ host: '127.0.0.1', port: spry.listener('https').port, path: '/echo', rejectUnauthorized: false, headers: { connection: 'Upgrade', upgrade: 'foo' } }, resolve).on('error', reject).end());
    res.resume();
    await once(res, 'end');
    assert.equal(res.statusCode, 400);
  });
});

describe('a ws backend that dies mid-connection', () => {
  it('closes the client\'s WebSocket on HTTP/1.1 and ends its stream on h2', async () => {
    const backend = await startWsBackend('doomed');
    const spry = await startRouter(`http://127.0.0.1:${backend.port}`);
    const h1 = await openWs(wssUrl(spry, '/echo'));
    assert.equal(await echo(h1, 'before'), 'doomed before websocket');
    const h2 = await H2WebSocket.open(h2Origin(spry), '/echo');
    h2.send('before');
    assert.equal(await h2.receive(), 'doomed before websocket');
    const h1Closed = once(h1, 'close');
    // The backend's FIN is the stream's END_STREAM (RFC 9113 §8.5); a reset would do as well.
    const h2Closed = Promise.race([once(h2.stream, 'end'), once(h2.stream, 'close')]);
    backend.child.kill('SIGKILL');
    const [code] = (await h1Closed) as [number];
    assert.equal(code, 1006, 'closed without a close frame: the backend is gone');
    await h2Closed;
    h2.close();
  });
});

describe('balancing with open WebSockets', () => {
  it('counts an open WebSocket as outstanding: requests go to the other backend while it is open', async () => {
    const [a, b] = await Promise.all([startWsBackend('a'), startWsBackend('b')]);
    const spry = await startRouter(`http://127.0.0.1:${a.port}`, `http://127.0.0.1:${b.port}`);
    const ws = await openWs(wssUrl(spry, '/echo'));
    const holder = (await echo(ws, 'who')).split(' ')[0];
    const other = holder === 'a' ? 'b' : 'a';
    const pages: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetchPage(spry);
      pages.push(res);
    }
    assert.deepEqual(pages, Array(4).fill(`page ${other}`));
    ws.close();
    await once(ws, 'close');
  });
});

async function fetchPage(spry: SpryProcess): Promise<string> {
  const { request } = await import('node:https');
  const res = await new Promise<IncomingMessage>((resolve, reject) =>
    request({ host: '127.0.0.1', port: spry.listener('https').port, path: '/', rejectUnauthorized: false, agent: false }, resolve).on('error', reject).end());
  let body = '';
  for await (const chunk of res) body += chunk;
  return body;
}

describe('WebSockets forwarded to uWSGI\'s websocket API over uwsgi', { skip: SKIP_UWSGI_PYTHON }, () => {
  let spry: SpryProcess;
  before(async () => {
    const dir = await tempDir('spry-ws-uwsgi-');
    running.push({ stop: () => dir.remove() });
    const port = await freePort();
    running.push(await startUwsgi(WSGI_WEBSOCKET, `127.0.0.1:${port}`, dir.path, ['--processes', '4']));
    spry = await startRouter(`127.0.0.1:${port}`);
  });

  it('passes an HTTP/1.1 upgrade as HTTP_UPGRADE and HTTP_SEC_WEBSOCKET_KEY and relays uWSGI\'s 101', async () => {
    const ws = await openWs(wssUrl(spry, '/echo'));
    assert.equal(await echo(ws, 'one'), 'echo one websocket');
    assert.equal(await echo(ws, 'two'), 'echo two websocket');
    ws.terminate();
  });

  it('forwards an h2 extended CONNECT with a key of spry\'s making, uWSGI\'s 101 becoming :status 200', async () => {
    const ws = await H2WebSocket.open(h2Origin(spry), '/echo');
    try {
      assert.equal(ws.response[':status'], 200);
      ws.send('over h2');
      assert.equal(await ws.receive(), 'echo over h2 websocket');
    } finally {
      ws.close();
    }
  });

  it('relays the WSGI app\'s refusal on HTTP/1.1 and on h2', async () => {
    const h1 = await refusal(wssUrl(spry, '/refuse'));
    assert.equal(h1.status, 400);
    assert.equal(h1.body, 'no websocket here\n');
    const h2 = await H2WebSocket.open(h2Origin(spry), '/refuse');
    try {
      assert.equal(h2.response[':status'], 400);
      assert.equal(await h2.body(), 'no websocket here\n');
    } finally {
      h2.close();
    }
  });
});
