// A uwsgi backend's hop-by-hop response headers (Connection, Keep-Alive, Trailer, TE, Upgrade)
// stay on its hop, as an HTTP backend's do: found by the backend fuzzer, where a `Trailer` header
// on a response with a Content-Length made node:http throw at the response's end and the client's
// connection was left open forever with no answer. Over real sockets: a raw uwsgi backend, spry
// --http-to it, node:http as the client.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';
import { plainRequest, within } from '../uwsgi/helpers.ts';

const RESPONSE = 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: upgrade\r\nkeep-alive: timeout=5\r\ntrailer: x-checksum\r\nte: trailers\r\nupgrade: websocket\r\ncontent-length: 5\r\n\r\nhello';
const ANSWER_MS = 10_000;

describe('spry --http-to a uwsgi backend that sends hop-by-hop headers', { timeout: 60_000 }, () => {
  let spry: SpryProcess;
  const sockets = new Set<Socket>();
  // One response per connection, as a uwsgi worker writes it, whatever the packet said.
  const backend = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.once('data', () => socket.end(RESPONSE, 'latin1'));
  });

  before(async () => {
    backend.listen(0, '127.0.0.1');
    await once(backend, 'listening');
    const port = (backend.address() as { port: number }).port;
    spry = await startSpry(['--http', '127.0.0.1:0', '--http-to', `127.0.0.1:${port}`, '--http-timeout', '30']);
  });
  after(async () => {
    await spry?.stop();
    for (const socket of sockets) socket.destroy();
    backend.close();
  });

  test('the client gets the response without them', async () => {
    const response = await within(ANSWER_MS, plainRequest(spry.listener('http').port, '/', { timeoutMs: ANSWER_MS }), 'GET /');
    assert.equal(response.status, 200);
    assert.equal(response.body.toString(), 'hello');
    for (const name of ['keep-alive', 'trailer', 'te', 'upgrade']) assert.equal(response.headers[name], undefined, name);
    assert.notEqual(response.headers.connection, 'upgrade');
  });
});
