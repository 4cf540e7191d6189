// What a hostile (or broken) HTTP backend's response head may do to the client behind spry
// (src/upstream/http-response-parser.ts). A head framed by both Transfer-Encoding and
// Content-Length reached HTTP/1.1 clients with the backend's Content-Length and the chunked body's
// real length, so the bytes past the length were read as the client's next response (response
// splitting on a kept-alive client connection); and a header value holding LF, CR or NUL, or a
// name that is not a token, was sent on to h2 and SPDY clients, while HTTP/1.1 clients had their
// connection cut. Now the length is dropped and the backend connection not kept, and such a head
// is a 502 on every protocol.

import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { before, describe, test } from 'node:test';
import { listenOnLoopback, stepsAfterAll } from '../helpers/backend-server.ts';
import { connectClient, headerValue, type ProtocolName } from '../helpers/protocol-clients.ts';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';

/** Each response the raw backend gives, by the request's path (`/r/NAME`). */
const RESPONSES: Record<string, string> = {
  ok: 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
  'both-framings': 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n1e\r\n012345678901234567890123456789\r\n0\r\n\r\n',
  'length-then-gzip': 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntransfer-encoding: chunked, gzip\r\n\r\nthe whole body, to the close',
  lf: 'HTTP/1.1 200 OK\r\nx-a: a\nset-cookie: injected=1\r\ncontent-length: 2\r\n\r\nok',
  cr: 'HTTP/1.1 200 OK\r\nx-a: a\rset-cookie: injected=1\r\ncontent-length: 2\r\n\r\nok',
  nul: 'HTTP/1.1 200 OK\r\nx-a: a\0b\r\ncontent-length: 2\r\n\r\nok',
  'space-in-name': 'HTTP/1.1 200 OK\r\nx a: b\r\ncontent-length: 2\r\n\r\nok',
  'space-before-colon': 'HTTP/1.1 200 OK\r\nx-a : b\r\ncontent-length: 2\r\n\r\nok',
  'obs-fold': 'HTTP/1.1 200 OK\r\nx-a: a\r\n set-cookie: injected=1\r\ncontent-length: 2\r\n\r\nok',
};

/** Each request line the backend saw, with the number of the connection it came on. */
const seen: { connection: number; line: string }[] = [];
let spry: SpryProcess;
const atEnd = stepsAfterAll();

before(async () => {
  let connections = 0;
  const backend = createNetServer((socket) => {
    const connection = ++connections;
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      const line = /^[A-Z]+ (\S+) HTTP\/1\.1/.exec(chunk.toString('latin1'));
      if (line === null) return;
      seen.push({ connection, line: line[1] });
      const response = RESPONSES[line[1].replace('/r/', '')] ?? RESPONSES.ok;
      socket.write(response);
      if (line[1] === '/r/length-then-gzip') socket.end();
    });
  });
  const port = await listenOnLoopback(backend, atEnd);
  spry = await startSpry(['--https2', 'addr=127.0.0.1:0,spdy=1', '--http', '127.0.0.1:0', '--http-to', `http://127.0.0.1:${port}`, '--http-timeout', '5']);
  atEnd(() => spry.stop());
});

/** Two GETs on one kept-alive HTTP/1.1 connection to spry: each response's status, headers and body. */
async function twoOnOneConnection(first: string, second: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const get = (path: string) =>
      new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: spry.listener('http').port, path, agent }, (res) => {
          let body = '';
          res.setEncoding('latin1');
          res.on('data', (chunk: string) => (body += chunk));
          res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
          res.once('error', reject);
        });
        req.once('error', reject);
        req.end();
      });
    const one = await get(first);
    // The second request reuses the first's connection: what spry sent past the first response is read as its answer.
    return [one, await get(second)];
  } finally {
    agent.destroy();
  }
}

describe('a backend response framed by both Transfer-Encoding and Content-Length', { timeout: 30_000 }, () => {
  test('reaches an HTTP/1.1 client without the Content-Length, the whole chunked body its body, and the next response on that connection is its own', async () => {
    const [first, second] = await twoOnOneConnection('/r/both-framings', '/r/ok?after-both-framings');
    assert.equal(first.status, 200);
    assert.equal(first.headers['content-length'], undefined);
    assert.equal(first.body, '012345678901234567890123456789');
    assert.equal(second.status, 200);
    assert.equal(second.body, 'ok');
  });

  test('leaves its backend connection closed: the next request goes on a new one', async () => {
    await twoOnOneConnection('/r/both-framings', '/r/ok?after-both-framings-backend');
    const framed = seen.findLast((entry) => entry.line === '/r/both-framings')!;
    const next = seen.find((entry) => entry.line === '/r/ok?after-both-framings-backend')!;
    assert.notEqual(next.connection, framed.connection);
  });

  test('whose last coding is not chunked is read to the close, whatever its Content-Length says', async () => {
    const [first] = await twoOnOneConnection('/r/length-then-gzip', '/r/ok?after-gzip');
    assert.equal(first.status, 200);
    assert.equal(first.body, 'the whole body, to the close');
  });
});

const FORBIDDEN_HEADS = ['lf', 'cr', 'nul', 'space-in-name', 'space-before-colon', 'obs-fold'];

for (const protocol of ['h2', 'spdy/3.1', 'spdy/2', 'http/1.1'] as const satisfies readonly ProtocolName[]) {
  describe(`a backend response head a client may not be given, over ${protocol}`, { timeout: 30_000 }, () => {
    for (const name of FORBIDDEN_HEADS) {
      test(`(${name}) is answered 502, and nothing of it reaches the client`, async () => {
        const client = await connectClient(protocol, { host: '127.0.0.1', port: spry.listener('https').port });
        try {
          const response = await client.request({ path: `/r/${name}` });
          assert.equal(response.status, 502);
          assert.equal(headerValue(response.headers, 'set-cookie'), undefined);
          assert.equal(headerValue(response.headers, 'x-a'), undefined);
          assert.match(response.body.toString(), /^Bad Gateway: /);
        } finally {
          await client.close();
        }
      });
    }
  });
}
