// The app adapters on a multiplexed protocol: a Node listener gets genuine node:http objects
// (surviving a framework's prototype swap) with the environment and node-spdy's fields; a
// fetch-style handler gets a streaming Request and the environment as its second argument.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { IncomingMessage, ServerResponse, type RequestListener } from 'node:http';
import { after, describe, test } from 'node:test';
import { SpdyClient, headerValue } from '../../src/spdy/client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const servers: TestServer[] = [];
after(() => Promise.all(servers.map((server) => server.close())));

async function serve(app: object): Promise<SpdyClient> {
  const server = await startTestServer({ app });
  servers.push(server);
  return SpdyClient.connect({ host: '127.0.0.1', port: server.port, protocol: 'spdy/3.1' });
}

type SpryRequest = IncomingMessage & { environ: Record<string, string>; isSpdy: boolean; spdyVersion: number; spdyStream: number };

describe('a Node (req, res) listener over SPDY', () => {
  test('gets IncomingMessage and ServerResponse with environ, isSpdy, spdyVersion and spdyStream', async () => {
    const seen: Record<string, unknown>[] = [];
    const client = await serve(((req: SpryRequest, res: ServerResponse) => {
      seen.push({
        isIncoming: req instanceof IncomingMessage,
        isResponse: res instanceof ServerResponse,
        isSpdy: req.isSpdy,
        spdyVersion: req.spdyVersion,
        spdyStream: req.spdyStream,
        environStream: req.environ['SPDY.stream'],
        host: req.headers.host,
        custom: req.headers['x-custom'],
        url: req.url,
        encrypted: (req.socket as unknown as { encrypted?: boolean }).encrypted,
      });
      res.setHeader('x-answer', ['a', 'b']);
      res.end('ok');
    }) as RequestListener);
    const response = await client.request('/p?q=1', { headers: ['x-custom', 'yes'] });
    await client.close();
    assert.equal(response.status, 200);
    assert.equal(response.body.toString(), 'ok');
    assert.equal(headerValue(response.headers, 'x-answer'), 'a');
    assert.deepEqual(
      response.headers.filter((_, i) => i % 2 === 1 && response.headers[i - 1] === 'x-answer'),
      ['a', 'b'],
    );
    assert.deepEqual(seen, [
      { isIncoming: true, isResponse: true, isSpdy: true, spdyVersion: 3.1, spdyStream: 1, environStream: '1', host: client.authority, custom: 'yes', url: '/p?q=1', encrypted: true },
    ]);
  });

  test('keeps working when a framework swaps the prototypes of req and res (as Express does)', async () => {
    const request = Object.create(IncomingMessage.prototype) as object;
    const response = Object.create(ServerResponse.prototype, {
      sendText: {
        value(this: ServerResponse, text: string) {
          this.setHeader('content-type', 'text/plain');
          this.end(text);
        },
      },
    }) as object;
    const client = await serve(((req: IncomingMessage, res: ServerResponse) => {
      Object.setPrototypeOf(req, request);
      Object.setPrototypeOf(res, response);
      (res as ServerResponse & { sendText(text: string): void }).sendText(`swapped ${req.method} ${req.url}`);
    }) as RequestListener);
    const result = await client.request('/x');
    await client.close();
    assert.equal(result.status, 200);
    assert.equal(headerValue(result.headers, 'content-type'), 'text/plain');
    assert.equal(result.body.toString(), 'swapped GET /x');
  });

  test('streams a request body to the app and back with backpressure', async () => {
    const client = await serve(((req: IncomingMessage, res: ServerResponse) => {
      res.setHeader('content-type', 'application/octet-stream');
      req.pipe(res);
    }) as RequestListener);
    const body = Buffer.alloc(5 << 20);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
    const result = await client.request('/echo', { method: 'POST', body: chunks(body, 60_000) });
    await client.close();
    assert.equal(result.status, 200);
    assert.equal(createHash('sha256').update(result.body).digest('hex'), createHash('sha256').update(body).digest('hex'));
  });

  test('sends no body for HEAD, 204 and 304, with the status intact', async () => {
    const client = await serve(((req: IncomingMessage, res: ServerResponse) => {
      const status = Number(req.url!.slice(1)) || 200;
      res.statusCode = status;
      res.end('body that must not be sent');
    }) as RequestListener);
    const head = await client.request('/200', { method: 'HEAD' });
    const noContent = await client.request('/204');
    const notModified = await client.request('/304');
    await client.close();
    assert.deepEqual([head.status, head.body.length], [200, 0]);
    assert.deepEqual([noContent.status, noContent.body.length], [204, 0]);
    assert.deepEqual([notModified.status, notModified.body.length], [304, 0]);
  });

  test('sends a body of unknown length, or one the app marked Transfer-Encoding: chunked, unframed (SPDY frames it)', async () => {
    const client = await serve(((req: IncomingMessage, res: ServerResponse) => {
      if (req.url === '/te') res.setHeader('transfer-encoding', 'chunked');
      res.write('first ');
      res.write('second ');
      res.end('last');
    }) as RequestListener);
    const [unknownLength, markedChunked] = await Promise.all([client.request('/plain'), client.request('/te')]);
    await client.close();
    for (const result of [unknownLength, markedChunked]) {
      assert.equal(result.status, 200);
      assert.equal(result.body.toString(), 'first second last');
      assert.equal(headerValue(result.headers, 'transfer-encoding'), undefined);
    }
  });

  test('turns an async app that rejects into a 500 for that stream only', async () => {
    const client = await serve((async (req: IncomingMessage, res: ServerResponse) => {
      if (req.url === '/fail') throw new Error('deliberate');
      res.end('fine');
    }) as RequestListener);
    const [failed, fine] = await Promise.all([client.request('/fail'), client.request('/ok')]);
    await client.close();
    assert.equal(failed.status, 500);
    assert.deepEqual([fine.status, fine.body.toString()], [200, 'fine']);
  });
});

describe('a fetch-style handler over SPDY', () => {
  test('gets a Request with method, URL, headers and a streamed body, and the environment', async () => {
    // A function of two parameters would be taken for a Node listener: the env comes with an
    // object's fetch method, as Hono apps export.
    const client = await serve({
      async fetch(request: Request, env: Record<string, string>) {
        const text = await request.text();
        return Response.json({ method: request.method, url: request.url, custom: request.headers.get('x-custom'), bytes: text.length, spdy: env.SPDY, version: env['SPDY.version'] }, { headers: { 'set-cookie': 'a=1' } });
      },
    });
    const result = await client.request('/f?x=1', { method: 'PUT', headers: ['x-custom', 'v'], body: Buffer.from('hello world') });
    await client.close();
    assert.equal(result.status, 200);
    assert.equal(headerValue(result.headers, 'set-cookie'), 'a=1');
    assert.deepEqual(JSON.parse(result.body.toString()), { method: 'PUT', url: `https://${client.authority}/f?x=1`, custom: 'v', bytes: 11, spdy: 'on', version: '3.1' });
  });

  test('a function of one parameter is a fetch handler; its streamed Response is sent, a throw is a 500', async () => {
    const client = await serve((request: Request): Response => {
      if (new URL(request.url).pathname === '/boom') throw new Error('deliberate');
      return new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('streamed ')); c.enqueue(new TextEncoder().encode('body')); c.close(); } }), { status: 201 });
    });
    const [ok, boom] = await Promise.all([client.request('/'), client.request('/boom')]);
    await client.close();
    assert.deepEqual([ok.status, ok.body.toString()], [201, 'streamed body']);
    assert.equal(boom.status, 500);
  });
});

function* chunks(buffer: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < buffer.length; i += size) yield buffer.subarray(i, i + size);
}
