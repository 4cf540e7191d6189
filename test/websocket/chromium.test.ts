// Headless Chromium opens a WebSocket from a page it loaded over h2: with spry announcing
// SETTINGS_ENABLE_CONNECT_PROTOCOL, Chromium sends an extended CONNECT on the page's own h2
// connection (RFC 8441) and an unmodified `ws` server answers it.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WebSocketServer } from 'ws';
import { createServer } from '../../src/index.ts';
import { CHROMIUM, assertExitedOk, runTool } from '../tools/tools.ts';

const CHROMIUM_TIMEOUT_MS = 30_000;

const PAGE = `<!doctype html><title>ws</title><p id="result">pending</p><script>
const ws = new WebSocket('wss://' + location.host + '/ws');
ws.onmessage = (event) => { document.getElementById('result').textContent = event.data; ws.send('done'); };
ws.onerror = () => { document.getElementById('result').textContent = 'error'; fetch('/release'); };
</script><img src="/wait" alt="">`;

test('Chromium opens a WebSocket over the page\'s h2 connection (an extended CONNECT), and ws answers it', { skip: CHROMIUM.skip, timeout: CHROMIUM_TIMEOUT_MS + 10_000 }, async () => {
  // The page's load event waits for /wait, which is answered once the WebSocket round trip is
  // over: what --dump-dom prints then has the result in it.
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const pageSockets: string[] = [];
  const server = createServer({}, (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/') {
      pageSockets.push(`${req.httpVersion} ${req.environ?.REMOTE_PORT}`);
      res.setHeader('content-type', 'text/html');
      res.end(PAGE);
    } else if (req.url === '/wait') {
      void released.then(() => res.end());
    } else {
      if (req.url === '/release') release();
      res.statusCode = 204;
      res.end();
    }
  });
  const upgrades: string[] = [];
  const wss = new WebSocketServer({ server: server });
  wss.on('connection', (ws, req) => {
    upgrades.push(`${req.environ?.SERVER_PROTOCOL} ${req.environ?.REMOTE_PORT}`);
    ws.send(`hello over ${req.environ?.SERVER_PROTOCOL}`);
    ws.on('message', () => release());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const profileDir = await mkdtemp(join(tmpdir(), 'spry-chromium-ws-'));
  try {
    const port = (server.address() as AddressInfo).port;
    const result = await runTool(CHROMIUM, [
      '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profileDir}`,
      '--ignore-certificate-errors', '--dump-dom', `https://127.0.0.1:${port}/`,
    ], { timeoutMs: CHROMIUM_TIMEOUT_MS, env: { ...process.env, HOME: profileDir } });
    assertExitedOk(result, 'chromium --dump-dom');
    const dom = result.stdout.toString('utf8');
    assert.match(dom, /<p id="result">hello over HTTP\/2\.0<\/p>/, dom.slice(0, 2000));
    assert.equal(pageSockets.length, 1);
    assert.equal(pageSockets[0].split(' ')[0], '2.0');
    // The same connection: the page's request and the upgrade came from one client port.
    assert.deepEqual(upgrades, [`HTTP/2.0 ${pageSockets[0].split(' ')[1]}`]);
  } finally {
    release();
    for (const client of wss.clients) client.terminate();
    wss.close();
    await new Promise((resolve) => server.close(resolve));
    await rm(profileDir, { recursive: true, force: true });
  }
});
