// The headers spry writes for an HTTP backend about the client and the hop
// (src/upstream/backend-requests.ts): Host and X-Forwarded-Host are spry's alone, X-Forwarded-Proto
// is replaced, X-Forwarded-For and Forwarded get the client's address after whatever the client
// sent. A request without an authority (HTTP/1.0 without Host) used to reach the backend as an
// HTTP/1.1 request without Host (node:http answers 400) and with the client's own
// X-Forwarded-Host, which a backend trusting its proxy takes for the host the client asked.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { before, describe, test } from 'node:test';
import { listenOnLoopback, stepsAfterAll } from '../helpers/backend-server.ts';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';

/** The headers the backend got, by path. */
const seen = new Map<string, IncomingHttpHeaders>();
let spry: SpryProcess;
const atEnd = stepsAfterAll();

before(async () => {
  const backend = createServer((req, res) => {
    seen.set(req.url ?? '', req.headers);
    res.end('ok');
  });
  const port = await listenOnLoopback(backend, atEnd);
  spry = await startSpry(['--http', '127.0.0.1:0', '--http-to', `http://127.0.0.1:${port}`, '--http-timeout', '5']);
  atEnd(() => spry.stop());
});

/** Raw request bytes to spry's HTTP listener; the reply's status line. */
async function statusOf(request: string): Promise<string> {
  const socket = connect(spry.listener('http').port, '127.0.0.1');
  let reply = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    reply += chunk;
    if (reply.includes('\r\n\r\n')) socket.end();
  });
  socket.write(request);
  await once(socket, 'close');
  return reply.slice(0, reply.indexOf('\r\n'));
}

describe('the forwarding headers an HTTP backend gets', { timeout: 30_000 }, () => {
  test('for an HTTP/1.0 request without Host: an empty Host and none of the client X-Forwarded-Host, and the backend answers it', async () => {
    const status = await statusOf('GET /no-host HTTP/1.0\r\nX-Forwarded-Host: evil.example\r\n\r\n');
    assert.equal(status, 'HTTP/1.1 200 OK');
    const headers = seen.get('/no-host')!;
    assert.equal(headers.host, '');
    assert.equal(headers['x-forwarded-host'], undefined);
  });

  test('for a request with a Host: that Host and X-Forwarded-Host, whatever X-Forwarded-Host the client sent', async () => {
    assert.equal(await statusOf('GET /with-host HTTP/1.1\r\nHost: good.example\r\nX-Forwarded-Host: evil.example\r\nConnection: close\r\n\r\n'), 'HTTP/1.1 200 OK');
    const headers = seen.get('/with-host')!;
    assert.equal(headers.host, 'good.example');
    assert.equal(headers['x-forwarded-host'], 'good.example');
  });

  test("X-Forwarded-Proto is spry's, and X-Forwarded-For and Forwarded end with the client spry saw", async () => {
    const request = 'GET /spoof HTTP/1.1\r\nHost: good.example\r\nX-Forwarded-Proto: https\r\nX-Forwarded-For: 198.51.100.7\r\nForwarded: for=198.51.100.7\r\nConnection: close\r\n\r\n';
    assert.equal(await statusOf(request), 'HTTP/1.1 200 OK');
    const headers = seen.get('/spoof')!;
    assert.equal(headers['x-forwarded-proto'], 'http');
    assert.equal(headers['x-forwarded-for'], '198.51.100.7, 127.0.0.1');
    assert.equal(headers.forwarded, 'for=198.51.100.7, for=127.0.0.1;host=good.example;proto=http');
  });
});
