// A backend whose status is not one HTTP defines, or whose header value holds a control character
// other than those test/upstream/hostile-backend-heads.test.ts tries (CR, LF, NUL), gets its
// client a 502, and the next request is served: found by the backend fuzzer
// (test/fuzz/backend-runner.ts), where a status of 099 left the client's connection open forever
// with no answer (node:http threw at the response's end, after the forwarder had marked it
// finished), 0x01 or DEL in a value cut the connection without an answer (ERR_INVALID_CHAR), and
// a status of 999 reached the client. Over real sockets: a raw backend answering each path with
// its bytes, spry --http-to it, node:http as the client.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';
import { plainRequest, within } from '../uwsgi/helpers.ts';

const ANSWERS: Record<string, string> = {
  '/status-099': 'HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n',
  '/status-999': 'HTTP/1.1 999 High\r\nContent-Length: 2\r\n\r\nok',
  '/control-in-value': 'HTTP/1.1 200 OK\r\nx-a: a\x01b\r\nContent-Length: 2\r\n\r\nok',
  '/del-in-value': 'HTTP/1.1 200 OK\r\nx-a: a\x7fb\r\nContent-Length: 2\r\n\r\nok',
  '/good': 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood',
};
/** Longer than any answer takes, and shorter than the test's timeout. */
const ANSWER_MS = 10_000;

describe('spry --http-to a backend whose response head is invalid', { timeout: 60_000 }, () => {
  let spry: SpryProcess;
  const sockets = new Set<Socket>();
  const backend = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const path = head.split(' ')[1];
      head = head.slice(end + 4);
      socket.write(ANSWERS[path] ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n', 'latin1');
    });
  });

  before(async () => {
    backend.listen(0, '127.0.0.1');
    await once(backend, 'listening');
    const port = (backend.address() as { port: number }).port;
    spry = await startSpry(['--http', '127.0.0.1:0', '--http-to', `http://127.0.0.1:${port}`, '--http-timeout', '30']);
  });
  after(async () => {
    await spry?.stop();
    for (const socket of sockets) socket.destroy();
    backend.close();
  });

  const cases: [string, string][] = [
    ['a status below 100', '/status-099'],
    ['a status above 599', '/status-999'],
    ['a control character in a header value', '/control-in-value'],
    ['DEL in a header value', '/del-in-value'],
  ];
  for (const [what, path] of cases) {
    test(`${what}: the client gets a 502, and the next request is served`, async () => {
      const bad = await within(ANSWER_MS, plainRequest(spry.listener('http').port, path, { timeoutMs: ANSWER_MS }), `GET ${path}`);
      assert.equal(bad.status, 502);
      const good = await within(ANSWER_MS, plainRequest(spry.listener('http').port, '/good', { timeoutMs: ANSWER_MS }), 'GET /good');
      assert.equal(good.status, 200);
      assert.equal(good.body.toString(), 'good');
    });
  }

  test('each bad head is logged with the stable code, never a Node error code', () => {
    const lines = spry.stderr().split('\n').filter((line) => line.startsWith('spry: backend '));
    assert.equal(lines.length, cases.length, lines.join('\n'));
    for (const line of lines) assert.match(line, /: SPRY_ERR_BACKEND_BAD_RESPONSE \(on GET /);
  });
});
