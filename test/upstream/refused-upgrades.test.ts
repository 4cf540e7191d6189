// A forwarded upgrade the backend refuses leaves its connection closed (src/upstream/forwarding-app.ts):
// spry sends an upgrade's body only after a 101, so a backend that answers an upgrade with a
// Content-Length at once, without switching, still waits on that connection for the body. The
// upgrades' node:http agent kept such connections alive and gave the next upgrade one: the
// backend took that request's bytes for the body, and another client's upgrade was never seen.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { before, describe, test } from 'node:test';
import { listenOnLoopback, stepsAfterAll } from '../helpers/backend-server.ts';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';

/** The requests the backend answered, as `METHOD path`. */
const seen: string[] = [];
let spry: SpryProcess;
const atEnd = stepsAfterAll();

before(async () => {
  // No upgrade listener: node:http answers every upgrade as a plain request, without reading its body first.
  const backend = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(404, { 'content-length': '10' });
    res.end('no sockets');
  });
  const port = await listenOnLoopback(backend, atEnd);
  spry = await startSpry(['--http', '127.0.0.1:0', '--http-to', `http://127.0.0.1:${port}`, '--http-timeout', '5']);
  atEnd(() => spry.stop());
});

/** Sends `request` on a connection of its own and resolves with all spry answers before it closes the connection. */
async function exchange(request: string): Promise<string> {
  const socket = connect(spry.listener('http').port, '127.0.0.1');
  let reply = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (reply += chunk));
  socket.on('error', () => {});
  socket.write(request);
  await once(socket, 'close');
  return reply;
}

const upgrade = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${extra}\r\n`;

describe('an upgrade the HTTP backend refuses', { timeout: 30_000 }, () => {
  test("that declared a body leaves no connection behind to take the next client's upgrade for that body", async () => {
    // 26 bytes: the length of the next upgrade's request line and its CRLF.
    const first = await exchange(`${upgrade('/with-a-body', 'Content-Length: 26\r\n')}${'x'.repeat(26)}`);
    assert.match(first, /^HTTP\/1\.1 404 /);
    const second = await exchange(upgrade('/next-client-upgrade'));
    assert.match(second, /^HTTP\/1\.1 404 /);
    assert.match(second, /no sockets$/);
    assert.deepEqual(seen, ['GET /with-a-body', 'GET /next-client-upgrade']);
  });
});
