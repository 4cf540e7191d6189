// spry's own HTTP/1.1 backend client (src/upstream/http-attempt.ts) keeps a connection for the
// next request only while both directions' framing held: a request body that does not add up
// to its content-length fails its attempt (SPRY_ERR_BACKEND_BODY_LENGTH) and closes the
// connection, before a byte past the length goes out; and a response whose framing cannot be
// trusted (a status line of another version, a chunk size with more than digits; Transfer-
// Encoding beside Content-Length is hostile-backend-heads.test.ts's) is the last on its
// connection, or a 502. Against a raw backend that reads requests as a lenient
// server would (by the first content-length), so a desynchronised connection would show as a
// request the client never sent.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import type { BodySink, FlatHeaders, RequestHead, ServerExchange } from '../../src/exchange/exchange.ts';
import type { BackendNode } from '../../src/upstream/balancer.ts';
import { HttpAttempt, type HttpAttemptOwner } from '../../src/upstream/http-attempt.ts';
import { HttpBackendPool } from '../../src/upstream/http-backend-pool.ts';
import { plainRequest, within } from '../uwsgi/helpers.ts';
import { startSpry } from '../helpers/spry-process.ts';

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
});

interface LenientBackend {
  readonly port: number;
  /** Each request read, as "connection METHOD target body-bytes", in order. */
  readonly requests: string[];
  /** Connections accepted, and those closed by spry's side. */
  connections: number;
  closed: number;
}

/**
 * A raw HTTP/1.1 backend that reads request after request on each connection, a body as long as
 * the first content-length says, and answers each with `answer` (by path, or the default).
 */
async function lenientBackend(answer: (target: string) => string): Promise<LenientBackend> {
  const sockets = new Set<Socket>();
  const backend: LenientBackend = { port: 0, requests: [], connections: 0, closed: 0 };
  const server = createServer((socket) => {
    const id = ++backend.connections;
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      backend.closed++;
    });
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.toString('latin1', 0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const [method, target] = head.split(' ');
        backend.requests.push(`${id} ${method} ${target} ${length}`);
        buffered = buffered.subarray(end + 4 + length);
        socket.write(answer(target));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((done) => server.close(done));
  });
  return Object.assign(backend, { port: (server.address() as { port: number }).port });
}

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

/** What one HttpAttempt reported to its owner. */
interface Outcome {
  status?: number;
  failure?: { code: string | undefined; message: string; status: number };
  finished: boolean;
}

/** A request's exchange as the attempt sees it: the head, and the body sink it sets. */
class DrivenExchange implements ServerExchange {
  readonly buffers = { readBytes: 65536, writeBytes: 65536 };
  aborted = false;
  responded = false;
  onDrain: (() => void) | null = null;
  onAbort: ((reason: Error) => void) | null = null;
  sink: BodySink | undefined;
  readonly head: RequestHead;

  constructor(method: string, target: string, headers: FlatHeaders, hasBody: boolean) {
    const connection = { remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 2, secure: false };
    this.head = { method, target, authority: 'spry.test', scheme: 'http', httpVersion: '1.1', headers, connection, protocol: { kind: 'http/1.1' }, hasBody };
  }

  setBodySink(sink: BodySink): void {
    this.sink = sink;
  }

  resumeBody(): void {}
  respond(): void {
    this.responded = true;
  }

  write(): boolean {
    return true;
  }

  end(): void {}
  abort(): void {
    this.aborted = true;
  }
}

/** Starts one attempt at `pool` for `exchange`, and what it reports. */
function attempt(pool: HttpBackendPool, node: BackendNode, exchange: DrivenExchange): { outcome: Outcome; settled: Promise<void> } {
  const outcome: Outcome = { finished: false };
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const owner: HttpAttemptOwner = {
    exchange,
    headSent: false,
    timeoutMs: 5_000,
    markAlive() {},
    respond(status) {
      outcome.status = status;
    },
    finish() {
      outcome.finished = true;
      settle();
    },
    lost(_node, error) {
      outcome.failure = { code: error.code, message: error.message, status: 0 };
      settle();
    },
    backendFailed(_node, error, status) {
      outcome.failure = { code: (error as NodeJS.ErrnoException).code, message: error.message, status };
      settle();
    },
    retryFresh(_node, error) {
      outcome.failure = { code: error.code, message: error.message, status: 0 };
      settle();
    },
  };
  new HttpAttempt(owner, node, pool, () => {}, false);
  return { outcome, settled: within(10_000, settled, 'the attempt reported no outcome') };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  await within(10_000, (async () => {
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
  })(), what);
}

describe("spry's HTTP backend client holds a request body to its content-length", { timeout: 60_000 }, () => {
  for (const [what, body, said] of [
    ['longer than its content-length: what follows the length never reaches the backend', ['hi!', 'GET /smuggled HTTP/1.1\r\nhost: x\r\n\r\n'], /longer than its content-length 3/],
    ['shorter than its content-length: the backend never takes the next request for its rest', ['h'], /ended after 1 of its content-length 3 bytes/],
  ] as const) {
    test(`a body ${what}, and the connection is closed, not kept`, async () => {
      const backend = await lenientBackend(() => OK);
      const node: BackendNode = { address: { kind: 'http', host: '127.0.0.1', port: backend.port }, label: 'raw', outstanding: 0, deadUntil: 0, failures: 0 };
      const pool = new HttpBackendPool(node);
      // A first request leaves a kept-alive connection in the pool.
      const first = attempt(pool, node, new DrivenExchange('GET', '/first', [], false));
      await first.settled;
      assert.equal(first.outcome.status, 200);
      const exchange = new DrivenExchange('POST', '/upload', ['content-length', '3'], true);
      const upload = attempt(pool, node, exchange);
      await until(() => exchange.sink !== undefined, 'the attempt took no body');
      for (const chunk of body) exchange.sink!.data(Buffer.from(chunk, 'latin1'));
      exchange.sink!.end();
      await upload.settled;
      assert.equal(upload.outcome.failure?.code, 'SPRY_ERR_BACKEND_BODY_LENGTH');
      assert.equal(upload.outcome.failure?.status, 502);
      assert.match(upload.outcome.failure?.message ?? '', said);
      await until(() => backend.closed === 1, 'spry did not close the connection');
      const next = attempt(pool, node, new DrivenExchange('GET', '/next', [], false));
      await next.settled;
      assert.equal(next.outcome.status, 200);
      // The long body's connection got the head and the declared 3 bytes, then was closed
      // before what followed; the short one's was closed before the backend had 3 bytes.
      const expected = body.length > 1 ? ['1 GET /first 0', '1 POST /upload 3', '2 GET /next 0'] : ['1 GET /first 0', '2 GET /next 0'];
      assert.deepEqual(backend.requests, expected);
    });
  }
});

describe("spry's HTTP backend client sends nothing of a request whose head misstates its body", { timeout: 60_000 }, () => {
  // The front ends refuse these heads (the uwsgi front end since it reads CONTENT_LENGTH alone);
  // the client does not rely on it.
  for (const [what, headers, hasBody, said] of [
    ['two different content-lengths', ['content-length', '40', 'content-length', '5'], true, /content-length has two different values/],
    ['a content-length that is not digits', ['content-length', '0x5'], true, /content-length "0x5" is not a length/],
    ['a content-length and no body', ['content-length', '40'], false, /declares content-length 40 but has no body/],
  ] as const) {
    test(`${what}: a 502, and the backend never sees it`, async () => {
      const backend = await lenientBackend(() => OK);
      const node: BackendNode = { address: { kind: 'http', host: '127.0.0.1', port: backend.port }, label: 'raw', outstanding: 0, deadUntil: 0, failures: 0 };
      const pool = new HttpBackendPool(node);
      const bad = attempt(pool, node, new DrivenExchange('POST', '/misstated', [...headers], hasBody));
      await bad.settled;
      assert.equal(bad.outcome.failure?.code, 'SPRY_ERR_BACKEND_BODY_LENGTH');
      assert.equal(bad.outcome.failure?.status, 502);
      assert.match(bad.outcome.failure?.message ?? '', said);
      const next = attempt(pool, node, new DrivenExchange('GET', '/after', [], false));
      await next.settled;
      assert.equal(next.outcome.status, 200);
      assert.deepEqual(backend.requests.map((line) => line.slice(line.indexOf(' ') + 1)), ['GET /after 0']);
    });
  }
});

describe('a response whose framing spry cannot trust', { timeout: 60_000 }, () => {
  test('a status line of another version than HTTP/1.x is the last on its connection, though it says keep-alive', async () => {
    const backend = await lenientBackend((target) => (target === '/other' ? 'HTTP/2.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nok' : OK));
    const spry = await startSpry(['--http', '127.0.0.1:0', '--http-to', `http://127.0.0.1:${backend.port}`, '--http-timeout', '5']);
    cleanup.push(() => spry.stop());
    const port = spry.listener('http').port;
    assert.equal((await plainRequest(port, '/other')).status, 200);
    assert.equal((await plainRequest(port, '/after')).status, 200);
    assert.deepEqual(backend.requests, ['1 GET /other 0', '2 GET /after 0']);
  });

  test('a chunk size with more than hex digits and extensions is a 502, not a size read from its first digits', async () => {
    const backend = await lenientBackend((target) => (target === '/junk' ? 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5zz\r\nhello\r\n0\r\n\r\n' : OK));
    const spry = await startSpry(['--http', '127.0.0.1:0', '--http-to', `http://127.0.0.1:${backend.port}`, '--http-timeout', '5']);
    cleanup.push(() => spry.stop());
    const port = spry.listener('http').port;
    // The head is out before the bad chunk: the client sees its response cut.
    await assert.rejects(plainRequest(port, '/junk'));
    const extension = await plainRequest(port, '/after');
    assert.equal(extension.status, 200);
    assert.deepEqual(backend.requests, ['1 GET /junk 0', '2 GET /after 0']);
  });
});
