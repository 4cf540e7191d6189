// spry's own HTTP/1.1 client for --http-to http://… backends (src/upstream/http-attempt.ts,
// http-backend-pool.ts), against a real node:http backend and two raw ones over real sockets:
// a kept-alive connection serves request after request, whatever framed the last response
// (Content-Length, chunked, HEAD, 204, 304); Connection: close and HTTP/1.0 are honoured;
// request bodies arrive whole with their length or chunked; and a kept-alive connection the
// backend closed under a new request costs a GET nothing (retried once on a new connection),
// while a POST, whose head already went out, gets a 502.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';
import { plainRequest, uploadBytes, within, type PlainResponse } from '../uwsgi/helpers.ts';

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
});

async function listening<T extends Server | NetServer>(server: T): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => {
    // A connection whose request is paused never reads its end: close it, or close() waits forever.
    if ('closeAllConnections' in server) server.closeAllConnections();
    return new Promise((done) => server.close(done));
  });
  return (server.address() as { port: number }).port;
}

async function spryTo(port: number, ...extra: string[]): Promise<SpryProcess> {
  const spry = await startSpry(['--http', '127.0.0.1:0', '--http-to', `http://127.0.0.1:${port}`, '--http-timeout', '5', ...extra]);
  cleanup.push(() => spry.stop());
  return spry;
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A chunked HTTP/1.1 upload (no Content-Length) to spry. */
function chunkedUpload(port: number, path: string, body: Buffer): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
    });
    req.once('error', reject);
    for (let at = 0; at < body.length; at += 40_000) req.write(body.subarray(at, at + 40_000));
    req.end();
  });
}

describe('spry --http-to a node:http backend keeps its connections alive', { timeout: 60_000 }, () => {
  let spry: SpryProcess;
  /** The backend connection (numbered in order of arrival) each request came on, by path. */
  const connectionOf = new Map<string, number>();
  let connections = 0;

  before(async () => {
    const ids = new WeakMap<Socket, number>();
    const backend = createServer((req, res) => {
      const path = req.url ?? '';
      connectionOf.set(`${req.method} ${path}`, ids.get(req.socket)!);
      if (path === '/chunked') {
        for (const part of ['one ', 'two ', 'three']) res.write(part);
        return void res.end();
      }
      if (path === '/close') {
        res.setHeader('connection', 'close');
        return void res.end('closing');
      }
      if (path === '/head') {
        res.setHeader('content-length', '1000');
        return void res.end(req.method === 'HEAD' ? undefined : 'x'.repeat(1000));
      }
      if (path === '/no-content') return void res.writeHead(204).end();
      if (path === '/not-modified') return void res.writeHead(304, { etag: '"v1"' }).end();
      if (path.startsWith('/upload')) {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const body = Buffer.concat(chunks);
          res.end(`${body.length} ${sha256(body)} ${req.headers['content-length'] ?? '-'} ${req.headers['transfer-encoding'] ?? '-'}`);
        });
        return;
      }
      res.end(`hello ${path}`);
    });
    backend.on('connection', (socket: Socket) => ids.set(socket, ++connections));
    spry = await spryTo(await listening(backend));
  });

  const get = async (path: string, method = 'GET'): Promise<PlainResponse> => plainRequest(spry.listener('http').port, path, { method });

  test('requests from separate client connections, one after another, share one backend connection', async () => {
    for (let i = 0; i < 5; i++) {
      const response = await get(`/seq-${i}`);
      assert.equal(response.status, 200);
      assert.equal(response.body.toString(), `hello /seq-${i}`);
    }
    const used = new Set([0, 1, 2, 3, 4].map((i) => connectionOf.get(`GET /seq-${i}`)));
    assert.equal(used.size, 1, `backend connections used: ${[...used].join(', ')}`);
  });

  test('after a chunked body, a HEAD (its Content-Length and no body), a 204 and a 304, the same connection serves the next request', async () => {
    const chunked = await get('/chunked');
    assert.equal(chunked.body.toString(), 'one two three');
    const head = await get('/head', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '1000');
    assert.equal(head.body.length, 0);
    assert.equal((await get('/no-content')).status, 204);
    const notModified = await get('/not-modified');
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.etag, '"v1"');
    const after = await get('/after-framings');
    assert.equal(after.body.toString(), 'hello /after-framings');
    const used = new Set(['GET /chunked', 'HEAD /head', 'GET /no-content', 'GET /not-modified', 'GET /after-framings'].map((key) => connectionOf.get(key)));
    assert.equal(used.size, 1, `backend connections used: ${[...used].join(', ')}`);
  });

  test('a response with Connection: close is the last on its connection: the next request opens another', async () => {
    assert.equal((await get('/before-close')).status, 200);
    const closing = await get('/close');
    assert.equal(closing.body.toString(), 'closing');
    assert.equal((await get('/after-close')).status, 200);
    assert.equal(connectionOf.get('GET /before-close'), connectionOf.get('GET /close'));
    assert.notEqual(connectionOf.get('GET /after-close'), connectionOf.get('GET /close'));
  });

  test('uploads arrive whole: with their Content-Length as sent, and chunked when the client gave no length', async () => {
    const body = uploadBytes(300_000);
    const sized = await plainRequest(spry.listener('http').port, '/upload-sized', { method: 'POST', body });
    assert.equal(sized.body.toString(), `${body.length} ${sha256(body)} ${body.length} -`);
    const chunked = await chunkedUpload(spry.listener('http').port, '/upload-chunked', body);
    assert.equal(chunked.body.toString(), `${body.length} ${sha256(body)} - chunked`);
    // Both left their connection clean: the next request reuses the last one.
    assert.equal((await get('/after-uploads')).status, 200);
    assert.equal(connectionOf.get('GET /after-uploads'), connectionOf.get('POST /upload-chunked'));
  });
});

/** A raw HTTP backend: answers each connection's first request with `answer`, then as `later` says. */
async function rawBackend(answer: string, later: 'ignore' | 'close'): Promise<{ port: number; connections: () => number; requests: string[] }> {
  let connections = 0;
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let answered = false;
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      if (answered) {
        if (later === 'close') socket.destroy();
        return;
      }
      buffered += chunk.toString('latin1');
      if (!buffered.includes('\r\n\r\n')) return;
      answered = true;
      requests.push(buffered.slice(0, buffered.indexOf('\r\n')));
      socket.write(answer);
    });
  });
  server.on('close', () => {
    for (const socket of sockets) socket.destroy();
  });
  const port = await listening(server);
  // Closed before the server: a kept-open connection would hold server.close() forever.
  cleanup.push(() => {
    for (const socket of sockets) socket.destroy();
  });
  return { port, connections: () => connections, requests };
}

describe('spry --http-to a raw HTTP backend', { timeout: 60_000 }, () => {
  for (const [what, head] of [
    ['an HTTP/1.0 response without keep-alive', 'HTTP/1.0 200 OK'],
    ['an HTTP/1.1 response with Connection: close', 'HTTP/1.1 200 OK\r\nConnection: close'],
  ]) {
    test(`${what} is the last on its connection, though the backend keeps it open`, async () => {
      const backend = await rawBackend(`${head}\r\nContent-Length: 4\r\n\r\nlast`, 'ignore');
      const spry = await spryTo(backend.port);
      for (let i = 0; i < 3; i++) {
        const response = await plainRequest(spry.listener('http').port, `/last-${i}`);
        assert.equal(response.status, 200, response.body.toString());
        assert.equal(response.body.toString(), 'last');
      }
      assert.equal(backend.connections(), 3);
    });
  }

  test('a kept-alive connection the backend closes under the next GET: the GET is retried once on a new connection and answered, and the backend is not marked dead', async () => {
    const backend = await rawBackend('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'close');
    const spry = await spryTo(backend.port);
    for (let i = 0; i < 3; i++) {
      const response = await plainRequest(spry.listener('http').port, `/again-${i}`);
      assert.equal(response.status, 200, response.body.toString());
    }
    // Each later GET went first on the kept connection (closed under it), then on a new one.
    assert.deepEqual(backend.requests, ['GET /again-0 HTTP/1.1', 'GET /again-1 HTTP/1.1', 'GET /again-2 HTTP/1.1']);
    assert.equal(backend.connections(), 3);
    assert.doesNotMatch(spry.stderr(), /marked dead/);
  });

  test('a POST whose kept-alive connection the backend closes before answering gets a 502, not a second delivery', async () => {
    const backend = await rawBackend('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'close');
    const spry = await spryTo(backend.port);
    assert.equal((await plainRequest(spry.listener('http').port, '/first')).status, 200);
    const post = await plainRequest(spry.listener('http').port, '/post', { method: 'POST', body: Buffer.from('once only') });
    assert.equal(post.status, 502, post.body.toString());
    assert.equal(backend.connections(), 1, 'the POST was not sent again on a new connection');
  });
});

const LARGE_BYTES = 64 * 1024 * 1024;
const PIECE = Buffer.alloc(64 * 1024, 'z');

/** Writes up to `total` bytes to `to`, waiting for drain when it is full; `progress.bytes` counts them. */
async function writeAll(to: NodeJS.WritableStream & { write(chunk: Buffer): boolean }, total: number, progress: { bytes: number }): Promise<void> {
  while (progress.bytes < total) {
    progress.bytes += PIECE.length;
    if (!to.write(PIECE)) await once(to, 'drain');
  }
}

/** Resolves once `progress.bytes` reaches `total` or has not moved for ten looks 100 ms apart. */
async function untilDoneOrStalled(progress: { bytes: number }, total: number): Promise<void> {
  let still = 0;
  for (let last = -1; progress.bytes < total && still < 10; ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    still = progress.bytes === last ? still + 1 : 0;
    last = progress.bytes;
  }
}

describe('spry --http-to an HTTP backend passes backpressure both ways', { timeout: 60_000 }, () => {
  // A client or backend that reads nothing can never let 64 MiB through the kernel's buffers
  // and spry's bounded queues: the writer stalls short of the end, unless spry buffers it all.
  test('a client that reads nothing of a 64 MiB response stops spry reading it from the backend', async (t) => {
    const written = { bytes: 0 };
    const backend = createServer((req, res) => {
      res.setHeader('content-length', String(LARGE_BYTES));
      void writeAll(res, LARGE_BYTES, written).then(() => res.end(), () => {});
    });
    const spry = await spryTo(await listening(backend));
    const req = httpRequest({ host: '127.0.0.1', port: spry.listener('http').port, path: '/large', agent: false });
    t.after(() => req.destroy());
    req.on('response', (res) => res.pause());
    req.on('error', () => {});
    req.end();
    await untilDoneOrStalled(written, LARGE_BYTES);
    assert.ok(written.bytes < LARGE_BYTES, 'the backend wrote the whole response to a client reading nothing');
  });

  test('a backend that reads nothing of a 64 MiB upload stops spry reading it from the client', async (t) => {
    const backend = createServer((req) => req.pause());
    const spry = await spryTo(await listening(backend));
    const sent = { bytes: 0 };
    const req = httpRequest({ host: '127.0.0.1', port: spry.listener('http').port, path: '/upload', method: 'POST', headers: { 'content-length': String(LARGE_BYTES) }, agent: false });
    t.after(() => req.destroy());
    req.on('error', () => {});
    void writeAll(req, LARGE_BYTES, sent).catch(() => {});
    await untilDoneOrStalled(sent, LARGE_BYTES);
    assert.ok(sent.bytes < LARGE_BYTES, 'the client sent the whole upload to a backend reading nothing');
  });
});

test('an idle kept-alive backend connection does not keep the process alive: it exits with one in the pool', { timeout: 60_000 }, async () => {
  // keepAliveTimeout 0: the backend never closes the idle connection itself.
  const backend = createServer({ keepAliveTimeout: 0 }, (req, res) => res.end('kept-alive'));
  const port = await listening(backend);
  const child = spawn(process.execPath, ['--conditions=spry-source', new URL('../fixtures/idle-pool-exit.ts', import.meta.url).pathname, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    // The pool keeps it for a minute: a process held by it would still be running at this bound.
    const [code] = (await within(30_000, once(child, 'exit'), 'the process did not exit with an idle connection in the pool')) as [number | null];
    assert.equal(output, 'kept\n');
    assert.equal(code, 0);
  } finally {
    child.kill('SIGKILL');
  }
});
