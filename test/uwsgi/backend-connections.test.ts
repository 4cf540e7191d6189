// How spry --http-to reaches a uwsgi backend: at an IP address (or a unix socket) on Node's bare
// socket handle, no net.Socket per request (src/upstream/uwsgi-attempt.ts); named by a host name,
// through net.Socket, which looks the name up. node:net's own debug log (NODE_DEBUG=net) tells
// the two apart: every net.connect logs "createConnection", a bare handle logs nothing.

import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { UwsgiRequestDecoder, type UwsgiRequest } from '../../src/uwsgi/packet.ts';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';
import { plainRequest } from './helpers.ts';

/** A uwsgi backend that answers each request with its PATH_INFO and the body's length. */
function startEchoBackend(): Promise<Server> {
  const server = createServer((socket: Socket) => {
    const decoder = new UwsgiRequestDecoder();
    let request: UwsgiRequest | undefined;
    let bodyBytes = 0;
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      if (request === undefined) {
        const decoded = decoder.push(chunk);
        if (!decoded.done) return;
        request = decoded.request;
        chunk = decoded.rest;
      }
      bodyBytes += chunk.length;
      const length = Number(request.vars.CONTENT_LENGTH || 0);
      if (bodyBytes < length) return;
      const body = `${request.vars.PATH_INFO} ${length}`;
      socket.end(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('spry --http-to a uwsgi backend, by address and by name', { timeout: 60_000 }, () => {
  let backend: Server;
  let port: number;
  before(async () => {
    backend = await startEchoBackend();
    port = (backend.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => backend.close(() => resolve())));

  async function spryTo(target: string): Promise<SpryProcess> {
    return startSpry(['--http', '127.0.0.1:0', '--http-to', target], { env: { ...process.env, NODE_DEBUG: 'net' } });
  }

  test('a backend at an IP address gets GETs and an upload, and spry opens no net.Socket for it (NODE_DEBUG=net logs no createConnection)', async (t) => {
    const spry = await spryTo(`127.0.0.1:${port}`);
    t.after(() => spry.stop());
    const httpPort = spry.listener('http').port;
    for (let i = 0; i < 3; i++) assert.equal((await plainRequest(httpPort, `/get/${i}`)).body.toString(), `/get/${i} 0`);
    const upload = await plainRequest(httpPort, '/upload', { method: 'POST', body: Buffer.alloc(300_000, 0x61) });
    assert.equal(upload.body.toString(), '/upload 300000');
    assert.doesNotMatch(spry.stderr(), /createConnection/);
  });

  test('a backend named by a host name (localhost:PORT) is reached through net.Socket, which looks the name up', async (t) => {
    const spry = await spryTo(`localhost:${port}`);
    t.after(() => spry.stop());
    const httpPort = spry.listener('http').port;
    const response = await plainRequest(httpPort, '/by-name');
    assert.equal(response.status, 200);
    assert.equal(response.body.toString(), '/by-name 0');
    assert.match(spry.stderr(), /createConnection/);
  });
});
