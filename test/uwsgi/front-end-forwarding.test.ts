// The uwsgi front end (`--socket`) forwarding to a kept-alive node:http backend (`--http-to
// http://…`): a request's length is CONTENT_LENGTH's alone (src/uwsgi/exchange.ts). nginx sends
// HTTP_CONTENT_LENGTH and HTTP_CONTENT_TYPE beside CONTENT_LENGTH and CONTENT_TYPE, and spry made
// a header of each, so every body from nginx reached the backend with two Content-Lengths (llhttp:
// 400); a router sending HTTP_CONTENT_LENGTH alone had the backend wait for a body spry never sent
// and take the next request on the connection for it. A CONTENT_LENGTH that is not digits, or a
// REMOTE_ADDR that would split the X-Forwarded-For line, is a 400 (SPRY_ERR_UWSGI_BAD_VAR).

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { before, describe, test } from 'node:test';
import { listenOnLoopback, stepsAfterAll } from '../helpers/backend-server.ts';
import { encodeUwsgiRequest } from '../../src/uwsgi/packet.ts';
import { freePort, plainRequest, SKIP_NGINX, startNginx, startSpryWith, tempDir, type Peer } from './helpers.ts';

/** What the backend was asked, in order: method, path, Content-Length and the body's bytes. */
const seen: { method: string; url: string; contentLength: string | undefined; body: string; headers: string[] }[] = [];
let uwsgiPort: number;
const atEnd = stepsAfterAll();

before(async () => {
  // Answers at once, before reading any body: node:http then reads and drops what the head
  // declared, so a length with no body behind it takes the next request's bytes.
  const backend = createServer((req, res) => {
    const entry = { method: req.method ?? '', url: req.url ?? '', contentLength: req.headers['content-length'], body: '', headers: req.rawHeaders };
    seen.push(entry);
    req.setEncoding('latin1');
    req.on('data', (chunk: string) => (entry.body += chunk));
    res.end('ok');
  });
  backend.keepAliveTimeout = 30_000;
  const port = await listenOnLoopback(backend, atEnd);
  const spry = await startSpryWith(['--socket', '127.0.0.1:0', '--http-to', `http://127.0.0.1:${port}`, '--http-timeout', '5'], /^spry: serving .* on uwsgi:\/\/127\.0\.0\.1:(\d+) /m);
  atEnd(() => spry.stop());
  uwsgiPort = Number(spry.match![1]);
});

/** One uwsgi request (its packet, then `body`) to spry: the whole reply, once spry closes. */
async function uwsgi(vars: Record<string, string>, body = ''): Promise<string> {
  const socket = connect(uwsgiPort, '127.0.0.1');
  let reply = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (reply += chunk));
  socket.write(Buffer.concat([encodeUwsgiRequest({ REQUEST_METHOD: 'GET', SERVER_PROTOCOL: 'HTTP/1.1', HTTP_HOST: 'localhost', REMOTE_ADDR: '192.0.2.1', ...vars }), Buffer.from(body, 'latin1')]));
  await once(socket, 'close');
  return reply;
}

describe('a uwsgi request forwarded to a kept-alive HTTP backend', { timeout: 30_000 }, () => {
  test('with both CONTENT_LENGTH and HTTP_CONTENT_LENGTH (as nginx sends them) reaches the backend with one Content-Length and one Content-Type, and its body', async () => {
    const reply = await uwsgi({ REQUEST_METHOD: 'POST', REQUEST_URI: '/both-lengths', CONTENT_LENGTH: '5', HTTP_CONTENT_LENGTH: '5', CONTENT_TYPE: 'text/plain', HTTP_CONTENT_TYPE: 'text/plain' }, 'hello');
    assert.match(reply, /^HTTP\/1\.1 200 /);
    const entry = seen.find((one) => one.url === '/both-lengths')!;
    assert.equal(entry.body, 'hello');
    assert.equal(entry.headers.filter((name) => /^content-(length|type)$/i.test(name)).length, 2, entry.headers.join(', '));
  });

  test('with HTTP_CONTENT_LENGTH but no CONTENT_LENGTH goes without a Content-Length, and the next request on the backend connection is answered as itself', async () => {
    assert.match(await uwsgi({ REQUEST_URI: '/copy-only', HTTP_CONTENT_LENGTH: '30' }), /^HTTP\/1\.1 200 /);
    assert.match(await uwsgi({ REQUEST_URI: '/after-copy-only' }), /^HTTP\/1\.1 200 /);
    assert.equal(seen.find((one) => one.url === '/copy-only')?.contentLength, undefined);
    assert.ok(seen.some((one) => one.url === '/after-copy-only'), seen.map((one) => one.url).join(', '));
  });

  for (const length of ['0x5', '1e1', '-5', '5 ', '+5']) {
    test(`with CONTENT_LENGTH ${JSON.stringify(length)} is a 400 naming it, and never reaches the backend`, async () => {
      const path = `/bad-length-${encodeURIComponent(length)}`;
      const reply = await uwsgi({ REQUEST_METHOD: 'POST', REQUEST_URI: path, CONTENT_LENGTH: length }, 'hello');
      assert.match(reply, /^HTTP\/1\.1 400 /);
      assert.match(reply, /\r\n\r\nBad Request: CONTENT_LENGTH /);
      assert.ok(!seen.some((one) => one.url === path));
    });
  }

  test('with a REMOTE_ADDR holding CR LF is a 400, and no line of it reaches the backend', async () => {
    const reply = await uwsgi({ REQUEST_URI: '/bad-remote', REMOTE_ADDR: '192.0.2.1\r\nx-injected: 1' });
    assert.match(reply, /^HTTP\/1\.1 400 /);
    assert.match(reply, /REMOTE_ADDR/);
    assert.ok(!seen.some((one) => one.url === '/bad-remote' || one.headers.some((name) => name.toLowerCase() === 'x-injected')));
  });
});

describe('nginx (uwsgi_pass) in front of spry --socket forwarding to a node:http backend', { timeout: 60_000, skip: SKIP_NGINX }, () => {
  let nginxPort: number;
  before(async () => {
    const dir = await tempDir('spry-uwsgi-forward-');
    atEnd(() => dir.remove());
    nginxPort = await freePort();
    const nginx: Peer = await startNginx(dir.path, nginxPort, `127.0.0.1:${uwsgiPort}`);
    atEnd(() => nginx.stop());
  });

  test('a POST with a Content-Length reaches the backend with its body and is answered 200', async () => {
    const response = await plainRequest(nginxPort, '/through-nginx', { method: 'POST', body: Buffer.from('hello nginx') });
    assert.equal(response.status, 200);
    assert.equal(seen.find((one) => one.url === '/through-nginx')?.body, 'hello nginx');
  });
});
