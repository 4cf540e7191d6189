// examples/testapp.ts under a plain node:http server (no spry): every route, with the fallback
// environment, plus a request that carries a spry-style `req.environ`.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { testApp } from '../../examples/testapp.ts';

let server: Server;
let base: string;
/** Errors the app threw out of the request listener, as the wrapper caught them. */
const thrown: unknown[] = [];

before(async () => {
  server = createServer((req, res) => {
    // Stand in for spry: a test may hand the app an environment through this header.
    const environ = req.headers['x-test-environ'];
    if (typeof environ === 'string') (req as IncomingMessage & { environ?: Record<string, string> }).environ = JSON.parse(environ);
    try {
      testApp(req, res);
    } catch (error) {
      thrown.push(error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal server error\n');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** The value cell of the environ table row whose key cell has data-key=`key`. */
function environCell(html: string, key: string): string | undefined {
  const table = /<table id="environ">([\s\S]*?)<\/table>/.exec(html);
  assert.ok(table, 'environ table present');
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`<th data-key="${escaped}">[^<]*</th><td>([^<]*)</td>`).exec(table[1])?.[1];
}

describe('testApp', () => {
  it('GET / lists the fallback environment, headers and the upload form', async () => {
    const res = await fetch(`${base}/?a=1&b=%3Cx%3E`, { headers: { 'x-custom': 'hello <world>' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const html = await res.text();
    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /<title>spry test app<\/title>/);
    assert.doesNotMatch(html, /<(link|script|img)\b/, 'no external resources');
    assert.equal(environCell(html, 'REQUEST_METHOD'), 'GET');
    assert.equal(environCell(html, 'PATH_INFO'), '/');
    assert.equal(environCell(html, 'QUERY_STRING'), 'a=1&amp;b=%3Cx%3E');
    assert.equal(environCell(html, 'SERVER_PROTOCOL'), 'HTTP/1.1');
    assert.equal(environCell(html, 'REMOTE_ADDR'), '127.0.0.1');
    assert.equal(environCell(html, 'HTTP_X_CUSTOM'), 'hello &lt;world&gt;');
    // Keys are sorted.
    const keys = [...html.matchAll(/data-key="([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(keys, [...keys].sort());
    assert.match(html, /<strong id="protocol">HTTP\/1\.1<\/strong>/);
    assert.match(html, /<table id="headers">[\s\S]*<th>x-custom<\/th><td>hello &lt;world&gt;<\/td>/);
    assert.match(html, /<form method="post" action="\/upload" enctype="multipart\/form-data">/);
    assert.match(html, /<input type="file"/);
    assert.match(html, /<input type="text"/);
    assert.match(html, /<a href="\/upload">/);
  });

  it('GET / names SPDY or HTTP/2 from a spry environment', async () => {
    const spdy = { SPDY: 'on', 'SPDY.version': '3.1', 'SPDY.stream': '5', SERVER_PROTOCOL: 'HTTP/1.1', REQUEST_METHOD: 'GET' };
    let html = await (await fetch(`${base}/`, { headers: { 'x-test-environ': JSON.stringify(spdy) } })).text();
    assert.match(html, /<strong id="protocol">SPDY\/3\.1 \(stream 5\)<\/strong>/);
    assert.equal(environCell(html, 'SPDY.version'), '3.1');
    assert.equal(environCell(html, 'HTTP_X_TEST_ENVIRON'), undefined, 'the given environ is used as is');

    const h2 = { HTTP2: 'on', 'HTTP2.stream': '7', SERVER_PROTOCOL: 'HTTP/2' };
    html = await (await fetch(`${base}/`, { headers: { 'x-test-environ': JSON.stringify(h2) } })).text();
    assert.match(html, /<strong id="protocol">HTTP\/2 \(stream 7\)<\/strong>/);
  });

  it('HEAD / has the headers and no body', async () => {
    const res = await fetch(`${base}/`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.ok(Number(res.headers.get('content-length')) > 0);
    assert.equal((await res.arrayBuffer()).byteLength, 0);
  });

  it('POST /upload hashes 5 MiB and answers JSON when Accept prefers it', async () => {
    const data = randomBytes(5 * 1024 * 1024);
    const res = await fetch(`${base}/upload`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/octet-stream' },
      body: data,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), { bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') });
  });

  it('POST /upload takes a chunked body in pieces, and ?format=json', async () => {
    const hash = createHash('sha256');
    let total = 0;
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(`${base}/upload?format=json`, { method: 'POST' }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (s: string) => (text += s)).on('end', () => resolve(text));
      });
      req.on('error', reject);
      for (let i = 0; i < 20; i++) {
        const piece = randomBytes(10_000 + i);
        hash.update(piece);
        total += piece.length;
        req.write(piece);
      }
      req.end();
    });
    assert.deepEqual(JSON.parse(body), { bytes: total, sha256: hash.digest('hex') });
  });

  it('POST /upload answers HTML by default, showing content-type, bytes and sha256', async () => {
    const form = new FormData();
    form.append('text', 'hi');
    const res = await fetch(`${base}/upload`, { method: 'POST', body: form, headers: { accept: 'text/html,application/json;q=0.9' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const html = await res.text();
    assert.match(html, /<td>multipart\/form-data; boundary=/);
    assert.match(html, /data-key="bytes">Bytes<\/th><td>\d+<\/td>/);
    assert.match(html, /<code>[0-9a-f]{64}<\/code>/);
  });

  it('/upload with another method is 405 with Allow', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(`${base}/upload`, { method });
      assert.equal(res.status, 405);
      assert.equal(res.headers.get('allow'), 'POST, PUT');
      await res.arrayBuffer();
    }
  });

  it('GET /bytes?n=3000000 streams exactly that many pattern bytes', async () => {
    const n = 3_000_000;
    const res = await fetch(`${base}/bytes?n=${n}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.equal(res.headers.get('content-length'), String(n));
    const body = new Uint8Array(await res.arrayBuffer());
    assert.equal(body.length, n);
    for (let i = 0; i < n; i++) {
      if (body[i] !== i % 251) assert.fail(`byte ${i} is ${body[i]}, want ${i % 251}`);
    }
  });

  it('GET /bytes rejects a bad or too large n', async () => {
    for (const q of ['n=abc', 'n=-1', `n=${1024 ** 3 + 1}`, '']) {
      const res = await fetch(`${base}/bytes?${q}`);
      assert.equal(res.status, 400, q);
      await res.arrayBuffer();
    }
    const zero = await fetch(`${base}/bytes?n=0`);
    assert.equal(zero.status, 200);
    assert.equal((await zero.arrayBuffer()).byteLength, 0);
  });

  it('GET /environ.json and /headers.json', async () => {
    const env = (await (await fetch(`${base}/environ.json?x=y`, { headers: { 'x-one': '1' } })).json()) as Record<string, string>;
    assert.equal(env.REQUEST_METHOD, 'GET');
    assert.equal(env.PATH_INFO, '/environ.json');
    assert.equal(env.QUERY_STRING, 'x=y');
    assert.equal(env.HTTP_X_ONE, '1');
    const headers = (await (await fetch(`${base}/headers.json`, { headers: { 'x-two': '2' } })).json()) as Record<string, string>;
    assert.equal(headers['x-two'], '2');
  });

  it('GET /status/CODE', async () => {
    const noContent = await fetch(`${base}/status/204`);
    assert.equal(noContent.status, 204);
    assert.equal((await noContent.arrayBuffer()).byteLength, 0);
    const teapot = await fetch(`${base}/status/418`);
    assert.equal(teapot.status, 418);
    assert.match(await teapot.text(), /^418 /);
    for (const bad of ['100', '199', '600', 'abc']) {
      const res = await fetch(`${base}/status/${bad}`);
      assert.equal(res.status, 400, bad);
      await res.arrayBuffer();
    }
  });

  it('GET /error throws out of the request listener', async () => {
    const before = thrown.length;
    const res = await fetch(`${base}/error`);
    assert.equal(res.status, 500);
    await res.arrayBuffer();
    assert.equal(thrown.length, before + 1);
    assert.match((thrown.at(-1) as Error).message, /deliberate/);
  });

  it('GET /slow?ms=N answers only after its timer fired', async () => {
    let fired = false;
    const timer = setTimeout(() => (fired = true), 100);
    const res = await fetch(`${base}/slow?ms=150`);
    assert.equal(await res.text(), 'slow done\n');
    assert.equal(fired, true, 'a 100 ms timer started before the request fired before the answer');
    clearTimeout(timer);
  });

  it('a target beginning with // is a path, not a host: 404, never a throw (found by the uwsgi fuzzer)', async () => {
    const before = thrown.length;
    for (const path of ['//', '//x/headers.json']) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${base}/`, { path }, (res) => {
          res.resume();
          res.once('end', () => resolve(res.statusCode ?? 0));
        });
        req.once('error', reject);
        req.end();
      });
      assert.equal(status, 404, path);
    }
    assert.equal(thrown.length, before);
  });

  it('anything else is 404; a GET route with another method is 405', async () => {
    const missing = await fetch(`${base}/nope`);
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /404/);
    const post = await fetch(`${base}/environ.json`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    await post.arrayBuffer();
  });
});
