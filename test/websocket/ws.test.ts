// Apps written for `ws` run unchanged: `new WebSocketServer({ server })` on a createServer
// server, reached by the `ws` client over ws:// and wss:// (HTTP/1.1 upgrades) and by an RFC 8441
// client over h2 (an extended CONNECT stream; spry turns ws's 101 into :status 200).

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { RawH2Peer } from '../helpers/raw-h2-peer.ts';
import { H2WebSocket, startEchoServer, type EchoServer } from './ws-helpers.ts';

async function echoOnce(url: string, message: string): Promise<string> {
  const ws = new WebSocket(url, { rejectUnauthorized: false });
  await once(ws, 'open');
  ws.send(message);
  const [data] = (await once(ws, 'message')) as [Buffer];
  ws.close();
  await once(ws, 'close');
  return data.toString();
}

describe('a ws server on a TLS createServer server', () => {
  let echo: EchoServer;
  before(async () => {
    echo = await startEchoServer();
  });
  after(() => echo.close());

  it('echoes over wss:// (an HTTP/1.1 upgrade over TLS)', async () => {
    assert.equal(await echoOnce(`wss://127.0.0.1:${echo.port}/chat`, 'hello'), 'echo hello HTTP/1.1');
  });

  it('announces SETTINGS_ENABLE_CONNECT_PROTOCOL and echoes over an h2 extended CONNECT stream, answered :status 200', async () => {
    const ws = await H2WebSocket.open(`https://127.0.0.1:${echo.port}`, '/chat');
    try {
      assert.equal(ws.response[':status'], 200);
      assert.equal(ws.response['sec-websocket-accept'], undefined);
      ws.send('over h2');
      assert.equal(await ws.receive(), 'echo over h2 HTTP/2.0');
      ws.send('again');
      assert.equal(await ws.receive(), 'echo again HTTP/2.0');
    } finally {
      ws.close();
    }
  });

  it('serves ordinary h2 requests on the session beside the WebSocket stream', async () => {
    const ws = await H2WebSocket.open(`https://127.0.0.1:${echo.port}`, '/chat');
    try {
      const page = ws.session.request({ ':path': '/' });
      let body = '';
      page.setEncoding('utf8');
      page.on('data', (chunk: string) => (body += chunk));
      await once(page, 'end');
      assert.equal(body, 'page');
      ws.send('still');
      assert.equal(await ws.receive(), 'echo still HTTP/2.0');
    } finally {
      ws.close();
    }
  });

  it('closes the app\'s socket when the client resets the h2 stream', async () => {
    const ws = await H2WebSocket.open(`https://127.0.0.1:${echo.port}`, '/chat');
    const [client] = [...echo.wss.clients].slice(-1);
    assert.ok(client !== undefined);
    const closed = once(client, 'close');
    ws.stream.close(0x8 /* CANCEL */);
    await closed;
    ws.close();
  });

  it('resets the h2 stream when the app destroys its socket', async () => {
    const ws = await H2WebSocket.open(`https://127.0.0.1:${echo.port}`, '/chat');
    const [client] = [...echo.wss.clients].slice(-1);
    const streamClosed = once(ws.stream, 'close');
    client.terminate(); // ws: socket.destroy()
    await streamClosed;
    assert.notEqual(ws.stream.rstCode, 0, 'a reset, not a clean end');
    ws.close();
  });

  it('answers an extended CONNECT with 501 where the server has no upgrade listener, and refuses a malformed one with RST_STREAM', async () => {
    const { createServer } = await import('../../src/index.ts');
    const bare = createServer({}, (_req, res) => res.end('x'));
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    const port = (bare.address() as { port: number }).port;
    try {
      const ws = await H2WebSocket.open(`https://127.0.0.1:${port}`, '/chat');
      assert.equal(ws.response[':status'], 501);
      ws.close();
      await assert.rejects(H2WebSocket.open(`https://127.0.0.1:${echo.port}`, 'no-slash'));
    } finally {
      await new Promise((resolve) => bare.close(resolve));
    }
  });
});

describe('bad upgrades to a ws server', () => {
  let echo: EchoServer;
  before(async () => {
    echo = await startEchoServer();
  });
  after(() => echo.close());

  it('refuses each malformed extended CONNECT with RST_STREAM PROTOCOL_ERROR, a stream error only', async () => {
    const peer = await RawH2Peer.connect(echo.port);
    try {
      const authority = `127.0.0.1:${echo.port}`;
      const malformed: [string, string][][] = [
        [[':method', 'CONNECT'], [':protocol', 'websocket'], [':path', '/chat'], [':authority', authority]], // no :scheme
        [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':authority', authority]], // no :path
        [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':path', '/chat']], // no :authority
        [[':method', 'GET'], [':protocol', 'websocket'], [':scheme', 'https'], [':path', '/chat'], [':authority', authority]], // not CONNECT
      ];
      malformed.forEach((fields, i) => peer.request(1 + 2 * i, fields));
      for (let i = 0; i < malformed.length; i++) assert.deepEqual(await peer.outcome(1 + 2 * i), { kind: 'reset', code: 1 /* PROTOCOL_ERROR */ }, `case ${i}`);
      peer.request(11, [[':method', 'GET'], [':scheme', 'https'], [':path', '/'], [':authority', authority]]);
      assert.deepEqual(await peer.outcome(11), { kind: 'response' }, 'the connection still serves');
    } finally {
      peer.close();
    }
  });

  it('answers an Upgrade to a protocol ws does not take with ws\'s 400, on HTTP/1.1 and on h2', async () => {
    const { request } = await import('node:https');
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) =>
      request({ host: '127.0.0.1', port: echo.port, path: '/chat', rejectUnauthorized: false, headers: { connection: 'Upgrade', upgrade: 'foo' } }, resolve).on('error', reject).end());
    res.resume();
    await once(res, 'end');
    assert.equal(res.statusCode, 400);
    const h2 = await H2WebSocket.open(`https://127.0.0.1:${echo.port}`, '/chat', {}, 'foo');
    try {
      assert.equal(h2.response[':status'], 400);
      await h2.body();
    } finally {
      h2.close();
    }
  });
});

describe('a ws server on a plain createServer server', () => {
  let echo: EchoServer;
  before(async () => {
    echo = await startEchoServer({ plain: true });
  });
  after(() => echo.close());

  it('echoes over ws://', async () => {
    assert.equal(await echoOnce(`ws://127.0.0.1:${echo.port}/chat`, 'plain'), 'echo plain HTTP/1.1');
  });

  it('echoes over h2c with an extended CONNECT', async () => {
    const ws = await H2WebSocket.open(`http://127.0.0.1:${echo.port}`, '/chat');
    try {
      assert.equal(ws.response[':status'], 200);
      ws.send('h2c');
      assert.equal(await ws.receive(), 'echo h2c HTTP/2.0');
    } finally {
      ws.close();
    }
  });

  it('still answers curl-style Upgrade: h2c requests as HTTP/1.1', async () => {
    const { request } = await import('node:http');
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) =>
      request({ host: '127.0.0.1', port: echo.port, headers: { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAAQAAP__' } }, resolve).on('error', reject).end());
    let body = '';
    for await (const chunk of res) body += chunk;
    assert.equal(res.statusCode, 200);
    assert.equal(body, 'page');
  });
});
