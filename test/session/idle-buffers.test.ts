// "Buffers released when idle" (issue 6): a session with no traffic and no open stream for a
// whole sweep period gives back most of its header inflate window, and serves the next request
// exactly as before. Both ends are SpdySessions (SpdyServerSession, SpdyClientSession) over a plain TCP connection.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DEFAULTS } from '../../src/config/config.ts';
import { collectResponse } from '../../src/spdy/client.ts';
import { SpdyClientSession } from '../../src/spdy/client-session.ts';
import { SpdyServerSession } from '../../src/spdy/server-session.ts';
import { spdyVersionFor } from '../../src/spdy/versions.ts';

const V31 = spdyVersionFor('spdy/3.1')!;
const CONNECTION = { remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 2, secure: false };

let tcp: Server;
let server: SpdyServerSession;
let client: SpdyClientSession;

before(async () => {
  const accepted = new Promise<Socket>((resolve) => {
    tcp = createServer((socket) => resolve(socket));
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const port = (tcp.address() as { port: number }).port;
  const clientSocket = connect(port, '127.0.0.1');
  server = new SpdyServerSession(await accepted, { version: V31, tuning: DEFAULTS.tuning, idleTimeoutMs: 0, connection: CONNECTION });
  client = new SpdyClientSession(clientSocket, { version: V31, tuning: DEFAULTS.tuning, connection: CONNECTION });
  server.on('stream', (stream) => {
    stream.setBodySink({ data: () => true, end: () => {} });
    stream.respond(200, ['content-type', 'text/plain'], false);
    stream.end(Buffer.from(`you asked for ${stream.head.target}\n`));
  });
});
after(() => {
  client.destroy();
  server.destroy();
  tcp.close();
});

async function get(path: string): Promise<string> {
  const stream = client.request({ method: 'GET', path, host: 'example.com' }, ['cookie', `id=${'x'.repeat(300)}`], { endStream: true });
  const response = await collectResponse(stream, client);
  assert.equal(response.status, 200);
  return response.body.toString();
}

describe('releaseIdleBuffers', () => {
  it('frees nothing after traffic, most of the inflate window after a quiet period, and the next requests still decode', async () => {
    assert.equal(await get('/one'), 'you asked for /one\n');
    assert.equal(await get('/two'), 'you asked for /two\n');
    assert.equal(server.releaseIdleBuffers(), 0, 'traffic since the last sweep: not idle yet');
    assert.ok(server.releaseIdleBuffers() > 28_000, 'a whole quiet period: the window goes');
    assert.equal(server.releaseIdleBuffers(), 0, 'nothing more to give');
    // The next header blocks refer back to the ones before the release (same cookie, host, …).
    assert.equal(await get('/three'), 'you asked for /three\n');
    assert.equal(await get('/four'), 'you asked for /four\n');
  });

  it('keeps everything while a stream is open', async () => {
    const opened = once(server, 'stream');
    const stream = client.request({ method: 'POST', path: '/upload', host: 'example.com' }, [], { endStream: false });
    const response = collectResponse(stream, client);
    await opened; // the server has it (and answered; the upload side is still open)
    server.releaseIdleBuffers(); // the traffic above
    assert.equal(server.releaseIdleBuffers(), 0, 'the stream is still open');
    stream.end();
    assert.equal((await response).status, 200);
  });
});
