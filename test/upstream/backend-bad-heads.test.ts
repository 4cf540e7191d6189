// A backend whose status is not one HTTP defines, or whose header value holds a control character
// other than those test/upstream/hostile-backend-heads.test.ts tries (CR, LF, NUL), gets its
// client a 502, and the next request is served; a uwsgi backend's hop-by-hop headers stay on its
// hop. Found by the backend fuzzer (test/fuzz/backend-runner.ts): a status of 099, or a Trailer
// header from a uwsgi backend, left the client's connection open forever with no answer
// (node:http threw at the response's end, after the forwarder had marked it finished); 0x01 or
// DEL in a value cut the connection without an answer (ERR_INVALID_CHAR); a status of 999 reached
// the client. Over real sockets: raw backends, spry --http-to them, node:http as the client.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';
import { plainRequest, within } from '../uwsgi/helpers.ts';

/** Longer than any answer takes, and shorter than the test's timeout. */
const ANSWER_MS = 10_000;

/**
 * A raw backend answering whatever `answer` makes of the bytes so far (undefined: wait for more),
 * and spry --http-to it at `address(port)`; both closed after the suite.
 */
function spryToRawBackend(address: (port: number) => string, answer: (socket: Socket, received: string) => string | undefined): { spry: () => SpryProcess } {
  let spry: SpryProcess | undefined;
  const sockets = new Set<Socket>();
  const backend: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const rest = answer(socket, received);
      if (rest !== undefined) received = rest;
    });
  });
  before(async () => {
    backend.listen(0, '127.0.0.1');
    await once(backend, 'listening');
    spry = await startSpry(['--http', '127.0.0.1:0', '--http-to', address((backend.address() as { port: number }).port), '--http-timeout', '30']);
  });
  after(async () => {
    await spry?.stop();
    for (const socket of sockets) socket.destroy();
    backend.close();
  });
  return { spry: () => spry! };
}

const ANSWERS: Record<string, string> = {
  '/status-099': 'HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n',
  '/status-999': 'HTTP/1.1 999 High\r\nContent-Length: 2\r\n\r\nok',
  '/control-in-value': 'HTTP/1.1 200 OK\r\nx-a: a\x01b\r\nContent-Length: 2\r\n\r\nok',
  '/del-in-value': 'HTTP/1.1 200 OK\r\nx-a: a\x7fb\r\nContent-Length: 2\r\n\r\nok',
  '/good': 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood',
};
describe('spry --http-to a backend whose response head is invalid', { timeout: 60_000 }, () => {
  // HTTP/1.1, kept alive: each request head answered by its path.
  const { spry } = spryToRawBackend(
    (port) => `http://127.0.0.1:${port}`,
    (socket, received) => {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      socket.write(ANSWERS[received.split(' ')[1]] ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n', 'latin1');
      return received.slice(end + 4);
    },
  );

  const cases: [string, string][] = [
    ['a status below 100', '/status-099'],
    ['a status above 599', '/status-999'],
    ['a control character in a header value', '/control-in-value'],
    ['DEL in a header value', '/del-in-value'],
  ];
  for (const [what, path] of cases) {
    test(`${what}: the client gets a 502, and the next request is served`, async () => {
      const bad = await within(ANSWER_MS, plainRequest(spry().listener('http').port, path, { timeoutMs: ANSWER_MS }), `GET ${path}`);
      assert.equal(bad.status, 502);
      const good = await within(ANSWER_MS, plainRequest(spry().listener('http').port, '/good', { timeoutMs: ANSWER_MS }), 'GET /good');
      assert.equal(good.status, 200);
      assert.equal(good.body.toString(), 'good');
    });
  }

  test('each bad head is logged with the stable code, never a Node error code', () => {
    const lines = spry().stderr().split('\n').filter((line) => line.startsWith('spry: backend '));
    assert.equal(lines.length, cases.length, lines.join('\n'));
    for (const line of lines) assert.match(line, /: SPRY_ERR_BACKEND_BAD_RESPONSE \(on GET /);
  });
});

describe('spry --http-to a uwsgi backend that sends hop-by-hop headers', { timeout: 60_000 }, () => {
  const response = 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: upgrade\r\nkeep-alive: timeout=5\r\ntrailer: x-checksum\r\nte: trailers\r\nupgrade: websocket\r\ncontent-length: 5\r\n\r\nhello';
  // One response per connection, as a uwsgi worker writes it, whatever the packet said.
  const { spry } = spryToRawBackend(
    (port) => `127.0.0.1:${port}`,
    (socket) => {
      if (!socket.writableEnded) socket.end(response, 'latin1');
      return '';
    },
  );

  test('the client gets the response without them', async () => {
    const answer = await within(ANSWER_MS, plainRequest(spry().listener('http').port, '/', { timeoutMs: ANSWER_MS }), 'GET /');
    assert.equal(answer.status, 200);
    assert.equal(answer.body.toString(), 'hello');
    for (const name of ['keep-alive', 'trailer', 'te', 'upgrade']) assert.equal(answer.headers[name], undefined, name);
    assert.notEqual(answer.headers.connection, 'upgrade');
  });
});
