// HandleConnection (src/internals/stream-handles.ts): a uwsgi backend connection on Node's bare
// socket handle. Real sockets: a node:net server on a loopback port or a unix socket plays the
// backend, and each test reads as what a forwarded request needs from the connection.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { HandleConnection, handleReaches, type ConnectionEvents, type HandleTarget } from '../../src/internals/stream-handles.ts';

/** Every event a connection reported, in order, and a promise per kind. */
class Recorder implements ConnectionEvents {
  readonly log: string[] = [];
  readonly chunks: Buffer[] = [];
  private waiters = new Map<string, () => void>();
  error: NodeJS.ErrnoException | undefined;

  connected(): void {
    this.note('connected');
  }
  received(chunk: Buffer): void {
    this.chunks.push(Buffer.from(chunk));
    this.note('received');
  }
  ended(): void {
    this.note('ended');
  }
  failed(error: NodeJS.ErrnoException): void {
    this.error = error;
    this.note('failed');
  }
  drained(): void {
    this.note('drained');
  }

  next(kind: string): Promise<void> {
    if (this.log.includes(kind)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.set(kind, resolve));
  }

  get text(): string {
    return Buffer.concat(this.chunks).toString();
  }

  private note(kind: string): void {
    if (this.log.at(-1) !== kind) this.log.push(kind);
    const waiter = this.waiters.get(kind);
    this.waiters.delete(kind);
    waiter?.();
  }
}

/** A backend that runs `serve` on each connection; closed after the test. */
async function backend(serve: (socket: Socket) => void, where: { path: string } | { port: 0 }): Promise<{ target: HandleTarget; server: Server }> {
  const server = createServer(serve);
  await new Promise<void>((resolve) => ('path' in where ? server.listen(where.path, resolve) : server.listen(0, '127.0.0.1', resolve)));
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  const target: HandleTarget = typeof address === 'string' ? { path: address } : { host: '127.0.0.1', port: address!.port };
  return { target, server };
}

/** Echoes what it read, upper-cased, once the client's `!` arrives, then closes. */
function shoutBack(socket: Socket): void {
  let heard = '';
  socket.on('data', (chunk: Buffer) => {
    heard += chunk.toString();
    if (heard.endsWith('!')) socket.end(heard.toUpperCase());
  });
  socket.on('error', () => {});
}

describe('HandleConnection', () => {
  test('over TCP it connects, sends two writes, receives the answer and reports the end', async () => {
    const { target } = await backend(shoutBack, { port: 0 });
    const events = new Recorder();
    const connection = new HandleConnection(target, events, true);
    await events.next('connected');
    assert.equal(connection.write(Buffer.from('hello, ')), true);
    assert.equal(connection.write(Buffer.from('backend!')), true);
    await events.next('ended');
    connection.destroy();
    assert.equal(events.text, 'HELLO, BACKEND!');
    assert.deepEqual(events.log, ['connected', 'received', 'ended']);
    assert.equal(connection.destroyed, true);
  });

  test('over a unix socket it does the same', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'spry-handles-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const { target } = await backend(shoutBack, { path: join(dir, 'backend.sock') });
    const events = new Recorder();
    const connection = new HandleConnection(target, events, false);
    await events.next('connected');
    connection.write(Buffer.from('unix!'));
    await events.next('ended');
    connection.destroy();
    assert.equal(events.text, 'UNIX!');
  });

  test('a refused connection fails with ECONNREFUSED, a missing socket file with ENOENT, and nothing else is reported', async (t) => {
    const { server, target } = await backend(() => {}, { port: 0 });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const refused = new Recorder();
    const one = new HandleConnection(target, refused, false);
    await refused.next('failed');
    assert.equal(refused.error?.code, 'ECONNREFUSED');
    assert.equal(refused.error?.syscall, 'connect');
    assert.equal(one.destroyed, true);
    const dir = await mkdtemp(join(tmpdir(), 'spry-handles-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const missing = new Recorder();
    new HandleConnection({ path: join(dir, 'nobody.sock') }, missing, false);
    await missing.next('failed');
    assert.equal(missing.error?.code, 'ENOENT');
    assert.deepEqual([refused.log, missing.log], [['failed'], ['failed']]);
  });

  test('writes to a backend that does not read return false past the high-water mark, and drained follows once it reads', async () => {
    let peer: Socket | undefined;
    const { target } = await backend((socket) => {
      peer = socket;
      socket.pause();
      socket.on('error', () => {});
    }, { port: 0 });
    const events = new Recorder();
    const connection = new HandleConnection(target, events, true);
    await events.next('connected');
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    let writes = 0;
    while (connection.write(chunk)) {
      writes++;
      assert.ok(writes < 1000, 'the kernel buffers should fill long before 256 MB');
    }
    assert.ok(!events.log.includes('drained'));
    peer!.resume();
    await events.next('drained');
    connection.destroy();
  });

  test('after pause() nothing is received until resume(); after destroy() nothing at all', async () => {
    let peer: Socket | undefined;
    const { target } = await backend((socket) => {
      peer = socket;
      socket.on('error', () => {});
    }, { port: 0 });
    const events = new Recorder();
    const connection = new HandleConnection(target, events, false);
    await events.next('connected');
    connection.pause();
    peer!.write('while paused');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(events.chunks.length, 0);
    connection.resume();
    await events.next('received');
    assert.equal(events.text, 'while paused');
    connection.destroy();
    const seen = events.log.length;
    peer!.end('after destroy');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(events.log.length, seen);
  });

  test('reaches IP addresses and unix sockets itself, and leaves host names to net.Socket (it does no lookup)', () => {
    assert.equal(handleReaches({ host: '127.0.0.1', port: 1 }), true);
    assert.equal(handleReaches({ host: '::1', port: 1 }), true);
    assert.equal(handleReaches({ path: '/run/app.sock' }), true);
    assert.equal(handleReaches({ host: 'localhost', port: 1 }), false);
  });
});
