// The response head a Node listener app produces on a multiplexed stream, which goes to the
// protocol as headers (never serialised as HTTP/1.1): every way node:http lets an app set it,
// the headers node:http adds (Date, Content-Length for a body given whole to end()), the
// validation node:http does, and spry's request fields. Over SPDY/3.1 (our client) and h2
// (node:http2's client), against a real spry listener.

import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse, type RequestListener } from 'node:http';
import { get } from 'node:https';
import { connect, type IncomingHttpHeaders } from 'node:http2';
import { after, describe, test } from 'node:test';
import { SpdyClient } from '../../src/spdy/client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const servers: TestServer[] = [];
after(() => Promise.all(servers.map((server) => server.close())));

interface Answer {
  status: number;
  /** Lower-case names; repeated headers as arrays. */
  headers: Record<string, string | string[]>;
  body: string;
}

type Fetch = (path: string, method?: string) => Promise<Answer>;

async function spdyFetcher(port: number): Promise<{ fetch: Fetch; close(): Promise<void> }> {
  const client = await SpdyClient.connect({ host: '127.0.0.1', port, protocol: 'spdy/3.1' });
  return {
    async fetch(path, method = 'GET') {
      const response = await client.request(path, { method });
      const headers: Record<string, string | string[]> = {};
      for (let i = 0; i < response.headers.length; i += 2) {
        const name = response.headers[i];
        if (name.startsWith(':') || name === 'status' || name === 'version') continue;
        const value = response.headers[i + 1];
        const previous = headers[name];
        headers[name] = previous === undefined ? value : [previous, value].flat();
      }
      return { status: response.status, headers, body: response.body.toString() };
    },
    close: () => client.close(),
  };
}

async function h2Fetcher(port: number): Promise<{ fetch: Fetch; close(): Promise<void> }> {
  const session = connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => session.once('connect', () => resolve()).once('error', reject));
  return {
    fetch(path, method = 'GET') {
      return new Promise((resolve, reject) => {
        const stream = session.request({ ':path': path, ':method': method });
        let head: IncomingHttpHeaders = {};
        let raw: string[] = [];
        const chunks: Buffer[] = [];
        stream.on('response', (headers, _flags, rawHeaders?: string[]) => {
          head = headers;
          raw = rawHeaders ?? [];
        });
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('error', reject);
        stream.on('end', () => {
          // From the raw list: node:http2 joins repeated headers in its object.
          const headers: Record<string, string | string[]> = {};
          for (let i = 0; i < raw.length; i += 2) {
            const [name, value] = [raw[i], raw[i + 1]];
            if (name.startsWith(':')) continue;
            const previous = headers[name];
            headers[name] = previous === undefined ? value : [previous, value].flat();
          }
          resolve({ status: Number(head[':status']), headers, body: Buffer.concat(chunks).toString() });
        });
        stream.end();
      });
    },
    close: () => new Promise<void>((resolve) => session.close(resolve)),
  };
}

const PROTOCOLS = [
  ['SPDY/3.1', spdyFetcher],
  ['h2', h2Fetcher],
] as const;

async function serve(app: RequestListener, protocol: (typeof PROTOCOLS)[number][1]): Promise<{ fetch: Fetch; close(): Promise<void> }> {
  const server = await startTestServer({ app });
  servers.push(server);
  return protocol(server.port);
}

/** The app the head tests run: each path sets its head one way. */
const headApp = ((req: IncomingMessage, res: ServerResponse) => {
  switch (req.url) {
    case '/end-whole':
      res.end('twelve bytes');
      return;
    case '/end-empty':
      res.end();
      return;
    case '/streamed':
      res.write('part one, ');
      res.end('part two');
      return;
    case '/own-length':
      res.writeHead(200, { 'Content-Length': '5', 'Content-Type': 'text/plain' });
      res.end('hello');
      return;
    case '/removed-length':
      res.removeHeader('content-length');
      res.end('no length');
      return;
    case '/no-date':
      res.sendDate = false;
      res.end('x');
      return;
    case '/own-date':
      res.setHeader('Date', 'Thu, 01 Jan 2026 00:00:00 GMT');
      res.end('x');
      return;
    case '/set-header':
      res.setHeader('X-Many', ['a', 'b']);
      res.setHeader('Content-Type', 'text/plain');
      res.statusCode = 201;
      res.statusMessage = 'Made';
      res.end('made');
      return;
    case '/write-head-object':
      res.setHeader('x-early', 'set before');
      res.writeHead(202, 'Taken', { 'X-Later': 7, 'X-Many': ['c', 'd'], Cookie: ['a=1', 'b=2'] });
      res.end();
      return;
    case '/write-head-flat':
      res.writeHead(200, ['X-One', '1', 'X-Two', '2', 'X-One', '3']);
      res.end();
      return;
    case '/write-head-pairs':
      res.writeHead(200, [['X-One', '1'], ['X-Two', '2']] as unknown as string[]);
      res.end();
      return;
    case '/bad-value':
      res.writeHead(200, { 'x-bad': 'line\r\nbreak' });
      res.end('never');
      return;
    case '/bad-name':
      res.writeHead(200, { 'bad name': 'x' });
      res.end('never');
      return;
    case '/odd-flat':
      res.writeHead(200, ['X-One']);
      res.end('never');
      return;
    case '/trailer':
      res.writeHead(200, { Trailer: 'x-checksum' });
      res.end('never');
      return;
    case '/connection-headers':
      res.writeHead(200, { Connection: 'keep-alive', 'Keep-Alive': 'timeout=5', 'Transfer-Encoding': 'chunked', 'X-Kept': 'yes' });
      res.end('framed by the protocol');
      return;
    case '/interim':
      res.writeContinue();
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.writeHead(103, { link: '</app.js>; rel=preload; as=script' });
      res.end('final');
      return;
    case '/headers-sent':
      res.writeHead(200);
      res.end(JSON.stringify({ headersSent: res.headersSent, setAfter: attempt(() => res.setHeader('x-late', '1')) }));
      return;
    default:
      res.statusCode = 404;
      res.end();
  }
}) as RequestListener;

function attempt(fn: () => void): string {
  try {
    fn();
    return 'allowed';
  } catch (error) {
    return (error as { code?: string }).code ?? 'thrown';
  }
}

for (const [name, fetcher] of PROTOCOLS) {
  describe(`a Node listener's response head over ${name}`, () => {
    test('a body given whole to end() gets its Content-Length; a streamed one, one removed, or an app-set one does not get ours', async () => {
      const client = await serve(headApp, fetcher);
      const [whole, empty, streamed, own, removed] = await Promise.all(
        ['/end-whole', '/end-empty', '/streamed', '/own-length', '/removed-length'].map((path) => client.fetch(path)),
      );
      const head = await client.fetch('/end-whole', 'HEAD');
      await client.close();
      assert.deepEqual([whole.headers['content-length'], whole.body], ['12', 'twelve bytes']);
      assert.deepEqual([empty.headers['content-length'], empty.body], ['0', '']);
      assert.deepEqual([streamed.headers['content-length'], streamed.body], [undefined, 'part one, part two']);
      assert.deepEqual([own.headers['content-length'], own.headers['content-type'], own.body], ['5', 'text/plain', 'hello']);
      assert.deepEqual([removed.headers['content-length'], removed.body], [undefined, 'no length']);
      // HEAD: no body, and no length node:http would not have sent either.
      assert.deepEqual([head.status, head.headers['content-length'], head.body], [200, undefined, '']);
    });

    test('carries a Date unless the app set its own or turned it off', async () => {
      const client = await serve(headApp, fetcher);
      const [plain, none, own] = await Promise.all(['/end-whole', '/no-date', '/own-date'].map((path) => client.fetch(path)));
      await client.close();
      const date = Date.parse(plain.headers.date as string);
      assert.ok(Math.abs(date - Date.now()) < 60_000, `a current date: ${String(plain.headers.date)}`);
      assert.equal(plain.headers.date, new Date(date).toUTCString());
      // node:http2 adds a Date of its own to every response without one.
      if (name === 'h2') assert.equal(none.headers.date, plain.headers.date);
      else assert.equal(none.headers.date, undefined);
      assert.equal(own.headers.date, 'Thu, 01 Jan 2026 00:00:00 GMT');
    });

    test('takes the status and headers from setHeader, statusCode and every form of writeHead', async () => {
      const client = await serve(headApp, fetcher);
      const [set, object, flat, pairs] = await Promise.all(
        ['/set-header', '/write-head-object', '/write-head-flat', '/write-head-pairs'].map((path) => client.fetch(path)),
      );
      await client.close();
      assert.deepEqual([set.status, set.headers['x-many'], set.headers['content-type'], set.body], [201, ['a', 'b'], 'text/plain', 'made']);
      assert.equal(object.status, 202);
      assert.deepEqual([object.headers['x-early'], object.headers['x-later'], object.headers['x-many']], ['set before', '7', ['c', 'd']]);
      assert.equal(object.headers.cookie, 'a=1; b=2', 'repeated Cookie values joined, as node:http does');
      assert.deepEqual([flat.headers['x-one'], flat.headers['x-two']], [['1', '3'], '2']);
      assert.deepEqual([pairs.headers['x-one'], pairs.headers['x-two']], ['1', '2']);
    });

    test('rejects what node:http rejects (bad names and values, odd header arrays, a Trailer header) with a 500 on that stream', async () => {
      const client = await serve(headApp, fetcher);
      for (const path of ['/bad-value', '/bad-name', '/odd-flat', '/trailer']) {
        const answer = await client.fetch(path);
        assert.equal(answer.status, 500, path);
        assert.equal(answer.body, 'Internal Server Error\n', path);
        assert.equal(answer.headers['x-bad'], undefined);
      }
      assert.equal((await client.fetch('/end-whole')).status, 200, 'the connection goes on');
      await client.close();
    });

    test('drops connection headers, and interim 1xx heads, sending the final head', async () => {
      const client = await serve(headApp, fetcher);
      const framed = await client.fetch('/connection-headers');
      const interim = await client.fetch('/interim');
      const sent = await client.fetch('/headers-sent');
      await client.close();
      assert.deepEqual([framed.status, framed.body, framed.headers['x-kept']], [200, 'framed by the protocol', 'yes']);
      for (const name of ['connection', 'keep-alive', 'transfer-encoding']) assert.equal(framed.headers[name], undefined, name);
      assert.deepEqual([interim.status, interim.body], [200, 'final']);
      assert.deepEqual(JSON.parse(sent.body), { headersSent: true, setAfter: 'ERR_HTTP_HEADERS_SENT' });
    });
  });
}

describe("spry's request fields", () => {
  test('are there for the requests spry hands out, after a prototype swap too, and assignable; absent on other requests', async () => {
    const request = Object.create(IncomingMessage.prototype) as object;
    let foreign: IncomingMessage | undefined;
    const seen: unknown[] = [];
    const upstream = await startTestServer({ app: ((_req: IncomingMessage, res: ServerResponse) => res.end('upstream')) as RequestListener, spdy: false, h2: false });
    servers.push(upstream);
    const client = await serve((async (req: IncomingMessage & Record<string, unknown>, res: ServerResponse) => {
      Object.setPrototypeOf(req, request);
      // An IncomingMessage spry did not make: an HTTP response the app receives.
      foreign ??= await new Promise<IncomingMessage>((resolve) => get({ port: upstream.port, host: '127.0.0.1', rejectUnauthorized: false }, resolve).on('error', () => {}));
      seen.push([req.isSpdy, req.spdyVersion, req.spdyStream, (req.environ as Record<string, string>).REQUEST_METHOD]);
      (req as Record<string, unknown>).isSpdy = 'assigned';
      seen.push(req.isSpdy);
      res.end('ok');
    }) as unknown as RequestListener, spdyFetcher);
    await client.fetch('/');
    await client.close();
    const other = foreign as unknown as Record<string, unknown> | undefined;
    assert.deepEqual(seen, [[true, 3.1, 1, 'GET'], 'assigned']);
    assert.ok(other !== undefined);
    assert.deepEqual([other.environ, other.isSpdy, other.spdyVersion, other.spdyStream], [undefined, undefined, undefined, undefined]);
  });
});
