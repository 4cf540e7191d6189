// Push works for routed requests too: spry --http-to forwards to a backend (here a plain
// node:http server, reached over HTTP/1.1) whose response names a cached file in a Link header;
// spry pushes it from its own cache, on SPDY and h2 alike. Push lives at the protocol's
// exchange, so it does not matter who answered.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readBody, SpdyClient } from '../../src/spdy/client.ts';
import { header } from '../helpers/raw-spdy-peer.ts';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';
import { connectH2 } from './h2-clients.ts';

const STYLE_FILE = fileURLToPath(new URL('../fixtures/push/style.css', import.meta.url));
const STYLE_CSS = readFileSync(STYLE_FILE);
const PAGE = '<!doctype html><link rel="stylesheet" href="/style.css"><p>from the backend</p>\n';

describe('push for a request spry forwarded with --http-to', () => {
  let backend: Server;
  let spry: SpryProcess;
  let port: number;

  before(async () => {
    backend = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html', link: '</style.css>; rel=preload; as=style, </missing.js>; rel=preload; as=script' });
      res.end(req.url === '/' ? PAGE : 'other\n');
    });
    backend.listen(0, '127.0.0.1');
    await once(backend, 'listening');
    const backendPort = (backend.address() as { port: number }).port;
    spry = await startSpry([
      '--https2', 'addr=127.0.0.1:0,spdy=1',
      '--http-to', `http://127.0.0.1:${backendPort}`,
      '--cache2', 'name=assets,items=4',
      '--load-file-in-cache', `/style.css=${STYLE_FILE}`,
    ]);
    port = spry.listener('https').port;
  });
  after(async () => {
    await spry?.stop();
    backend?.close();
  });

  it('pushes the cached file the backend links to over spdy/3.1, and nothing for the uncached one', async () => {
    const client = await SpdyClient.connect({ host: '127.0.0.1', port, protocol: 'spdy/3.1' });
    try {
      const pushes: Promise<[string, Buffer]>[] = [];
      client.session.on('push', (stream, headers) => pushes.push(readBody(stream).then((body) => [header(headers, ':path') ?? '', body])));
      const response = await client.request('/');
      assert.equal(response.status, 200);
      assert.equal(response.body.toString(), PAGE);
      assert.deepEqual(await Promise.all(pushes), [['/style.css', STYLE_CSS]]);
    } finally {
      await client.close();
    }
  });

  it('pushes it over h2 with a PUSH_PROMISE', async () => {
    const client = await connectH2(`https://127.0.0.1:${port}`);
    try {
      await client.get('/');
      assert.deepEqual(client.pushes.map((push) => push.path), ['/style.css']);
      assert.deepEqual((await client.pushes[0].response).body, STYLE_CSS);
    } finally {
      client.close();
    }
  });
});
