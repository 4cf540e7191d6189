// `--module` apps that take WebSockets, run as users run spry: a module exporting its own
// http.Server with a ws server on it, and a plain listener with the `upgrade` hook export.
// --http-timeout leaves a WebSocket that exchanges frames open and closes a quiet one.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';
import { H2WebSocket } from './ws-helpers.ts';

async function openWs(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { rejectUnauthorized: false });
  await once(ws, 'open');
  return ws;
}

async function roundTrip(ws: WebSocket, message: string): Promise<string> {
  ws.send(message);
  const [data] = (await once(ws, 'message')) as [Buffer];
  return data.toString();
}

describe('--module exporting an http.Server with a ws server on it', () => {
  let spry: SpryProcess;
  before(async () => {
    spry = await startSpry(['--https2', 'addr=127.0.0.1:0', '--http', '127.0.0.1:0', '--module', './test/fixtures/ws-app.ts:server', '--http-timeout', '1']);
  });
  after(() => spry.stop());

  it('serves its request listener, and its ws server over wss://, ws:// and h2', async () => {
    const https = spry.listener('https');
    const http = spry.listener('http');
    const page = await fetch(`http://127.0.0.1:${http.port}/`);
    assert.equal(await page.text(), 'page from the app\'s own server');
    for (const url of [`wss://127.0.0.1:${https.port}/`, `ws://127.0.0.1:${http.port}/`]) {
      const ws = await openWs(url);
      assert.equal(await roundTrip(ws, 'hi'), 'echo hi HTTP/1.1');
      ws.close();
    }
    const h2 = await H2WebSocket.open(`https://127.0.0.1:${https.port}`, '/');
    h2.send('hi');
    assert.equal(await h2.receive(), 'echo hi HTTP/2.0');
    h2.close();
  });

  it('--http-timeout (1 s) leaves a WebSocket that exchanges frames open past it, and closes one that goes quiet', async () => {
    const ws = await openWs(`ws://127.0.0.1:${spry.listener('http').port}/`);
    for (let i = 0; i < 6; i++) {
      assert.equal(await roundTrip(ws, `n${i}`), `echo n${i} HTTP/1.1`);
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    // 2.4 s of frames every 400 ms went through a 1 s timeout; now nothing moves.
    const [code] = (await once(ws, 'close')) as [number];
    assert.equal(code, 1006, 'the quiet connection was closed under it (no close frame)');
  });
});

describe('--module exporting a plain listener and an upgrade hook', () => {
  let spry: SpryProcess;
  before(async () => {
    spry = await startSpry(['--http', '127.0.0.1:0', '--module', './test/fixtures/ws-app.ts:listener']);
  });
  after(() => spry.stop());

  it('sends upgrades to the module\'s upgrade export, and requests to the listener', async () => {
    const { port } = spry.listener('http');
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'plain listener');
    const ws = await openWs(`ws://127.0.0.1:${port}/`);
    assert.equal(await roundTrip(ws, 'x'), 'hooked x');
    ws.close();
  });
});
