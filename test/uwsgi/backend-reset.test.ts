// A backend whose process resets a connection it accepted, before answering, is not marked dead:
// the address may already name another process (a reloaded managed worker's old process resets
// its backlog as it exits, while its socket names the new one). The request is retried on the
// other node, and the next ones go to both nodes again, though --http-gracetime is a minute.

import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';
import { plainRequest } from './helpers.ts';

/** A uwsgi backend answering its name; with `resetFirst`, its first connection is reset unanswered. */
function startNamedBackend(name: string, resetFirst: boolean): Promise<{ server: Server; port: number; resets: number }> {
  const state = { server: undefined as unknown as Server, port: 0, resets: 0 };
  const sockets = new Set<Socket>();
  state.server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.once('data', () => {
      if (resetFirst && state.resets === 0) {
        state.resets++;
        return void socket.resetAndDestroy();
      }
      socket.end(`HTTP/1.1 200 OK\r\nContent-Length: ${name.length}\r\n\r\n${name}`);
    });
  });
  state.server.on('close', () => {
    for (const socket of sockets) socket.destroy();
  });
  return new Promise((resolve) => state.server.listen(0, '127.0.0.1', () => {
    state.port = (state.server.address() as { port: number }).port;
    resolve(state);
  }));
}

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
});

test('a backend that resets a connection before answering gets the next requests again: the retry answers, and the node is not marked dead', { timeout: 60_000 }, async () => {
  const resetting = await startNamedBackend('resetting', true);
  cleanup.push(() => new Promise((done) => resetting.server.close(done)));
  const steady = await startNamedBackend('steady', false);
  cleanup.push(() => new Promise((done) => steady.server.close(done)));
  const spry: SpryProcess = await startSpry(['--http', '127.0.0.1:0', '--http-to', `127.0.0.1:${resetting.port}`, '--http-to', `127.0.0.1:${steady.port}`, '--http-gracetime', '60']);
  cleanup.push(() => spry.stop());
  const port = spry.listener('http').port;
  // Round robin over two idle nodes: the resetting one gets one of the first two requests.
  for (let i = 0; i < 2; i++) {
    const response = await plainRequest(port, `/before-${i}`);
    assert.equal(response.status, 200, `request ${i}: ${response.body.toString()}`);
  }
  assert.equal(resetting.resets, 1, 'the resetting backend reset one connection');
  assert.match(spry.stderr(), /ECONNRESET before answering; retrying on 127\.0\.0\.1:\d+/);
  const answeredBy: string[] = [];
  for (let i = 0; i < 4; i++) answeredBy.push((await plainRequest(port, `/after-${i}`)).body.toString());
  assert.ok(answeredBy.includes('resetting'), `answers after the reset came from ${answeredBy.join(', ')}; the node that reset was left out`);
  assert.doesNotMatch(spry.stderr(), /marked dead/);
});
