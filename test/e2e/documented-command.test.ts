// uWSGI's documented SPDY router command, in spry's dialect, run as a user would run it: a real
// spry process with certificate files, fetched over every SPDY version and over HTTPS, then
// stopped with SIGTERM.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SpdyClient } from '../../src/spdy/client.ts';
import { testCertificate } from '../helpers/server.ts';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';

let dir: string;
let spry: SpryProcess;
let port: number;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spry-e2e-'));
  const { cert, key } = await testCertificate();
  await writeFile(join(dir, 'foobart.crt'), cert);
  await writeFile(join(dir, 'foobar.key'), key);
  spry = await startSpry([
    '--https2', `addr=127.0.0.1:0,cert=${join(dir, 'foobart.crt')},key=${join(dir, 'foobar.key')},spdy=1`,
    '--module', './examples/testapp.ts:testApp',
    '--http-timeout', '30',
  ]);
  port = spry.listener('https').port;
}, { timeout: 20_000 });

after(async () => {
  await spry?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('spry --https2 addr=…,cert=…,key=…,spdy=1 --module ./examples/testapp.ts:testApp', () => {
  test('announces the node-listener app on https://127.0.0.1:PORT with h2, spdy/3.1, spdy/3, spdy/2 and http/1.1', () => {
    const [listener, ...others] = spry.listeners;
    assert.deepEqual(others, []);
    assert.equal(listener.appStyle, 'node-listener');
    assert.equal(listener.module, './examples/testapp.ts:testApp');
    assert.equal(listener.origin, `https://127.0.0.1:${port}`);
    assert.deepEqual(listener.protocols, ['h2', 'spdy/3.1', 'spdy/3', 'spdy/2', 'http/1.1']);
  });

  for (const protocol of ['spdy/3.1', 'spdy/3', 'spdy/2'] as const) {
    test(`serves the test app's environment over ${protocol} with SPDY=on, its version and an odd stream id`, async () => {
      const client = await SpdyClient.connect({ host: '127.0.0.1', port, protocol });
      try {
        const first = await client.request('/environ.json');
        const second = await client.request('/environ.json?again=1');
        assert.equal(first.status, 200);
        const env = JSON.parse(first.body.toString()) as Record<string, string>;
        assert.equal(env.SPDY, 'on');
        assert.equal(env['SPDY.version'], protocol.slice(5));
        assert.equal(env['SPDY.stream'], '1');
        assert.equal(JSON.parse(second.body.toString())['SPDY.stream'], '3');
        assert.equal(env.HTTPS, 'on');
        assert.equal(env.REQUEST_METHOD, 'GET');
        assert.equal(env.SERVER_PROTOCOL, 'HTTP/1.1');
        assert.equal(env.REMOTE_ADDR, '127.0.0.1');
        const page = await client.request('/');
        assert.match(page.body.toString(), new RegExp(`SPDY/${protocol.slice(5).replace('.', '\\.')} \\(stream 5\\)`));
      } finally {
        await client.close();
      }
    });
  }

  test('serves plain HTTPS (HTTP/1.1) to a client that offers no ALPN, without SPDY variables', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      httpsRequest({ host: '127.0.0.1', port, path: '/environ.json', rejectUnauthorized: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(text));
      })
        .on('error', reject)
        .end();
    });
    const env = JSON.parse(body) as Record<string, string>;
    assert.equal(env.SERVER_PROTOCOL, 'HTTP/1.1');
    assert.equal(env.HTTPS, 'on');
    assert.equal(env.SPDY, undefined);
  });

  test('stops cleanly on SIGTERM', async () => {
    assert.equal(await spry.stop(), 0);
  });
});
