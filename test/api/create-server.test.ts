// createServer as a library user calls it: an unmodified Express app over every protocol the TLS
// port speaks, node-spdy's option shape, `plain: true` (HTTP/1.1 and h2c), the http.Server
// surface (listen forms, address(), events, graceful close, closeAllConnections,
// closeIdleConnections) and the errors of bad options.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest, createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import express, { type Request, type Response } from 'express';
import { createServer, SpryError, type SpryServer } from '../../src/index.ts';
import { connectClient, PROTOCOLS } from '../helpers/protocol-clients.ts';
import { headerValue, SpdyClient } from '../../src/spdy/client.ts';

function expressApp() {
  const app = express();
  app.use(express.json());
  app.get('/hello/:name', (req: Request, res: Response) => {
    res.json({ hello: req.params.name, httpVersion: req.httpVersion, major: req.httpVersionMajor, protocol: req.protocol, isSpdy: (req as unknown as { isSpdy?: boolean }).isSpdy ?? null });
  });
  app.post('/echo', (req: Request, res: Response) => {
    res.status(201).json(req.body);
  });
  return app;
}

function listen(server: SpryServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function closed(server: SpryServer): Promise<void> {
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}

describe('createServer(options, expressApp) over TLS, with no key or cert (a self-signed localhost certificate)', () => {
  let server: SpryServer;
  let port: number;
  before(async () => {
    server = createServer({}, expressApp());
    port = await listen(server);
  });
  after(() => closed(server));

  it('offers node-spdy\'s default protocols by ALPN', () => {
    assert.deepEqual(server.protocols, ['h2', 'spdy/3.1', 'spdy/3', 'spdy/2', 'http/1.1']);
  });

  const expectedVersion: Record<string, string> = { h2: '2.0', 'spdy/3.1': '1.1', 'spdy/3': '1.1', 'spdy/2': '1.1', 'http/1.1': '1.1' };
  for (const protocol of PROTOCOLS) {
    it(`serves the Express app over ${protocol}, and req.httpVersion says ${expectedVersion[protocol]}`, async () => {
      const client = await connectClient(protocol, { host: '127.0.0.1', port });
      try {
        const got = await client.request({ path: '/hello/spry' });
        assert.equal(got.status, 200);
        const body = JSON.parse(got.body.toString());
        assert.equal(body.hello, 'spry');
        assert.equal(body.httpVersion, expectedVersion[protocol]);
        assert.equal(body.major, Number(expectedVersion[protocol][0]));
        assert.equal(body.protocol, 'https');
        assert.equal(body.isSpdy, protocol.startsWith('spdy'));
        const json = Buffer.from(JSON.stringify({ n: 1, protocol }));
        const posted = await client.request({ method: 'POST', path: '/echo', headers: [['content-type', 'application/json'], ['content-length', String(json.length)]], body: json });
        assert.equal(posted.status, 201);
        assert.deepEqual(JSON.parse(posted.body.toString()), { n: 1, protocol });
      } finally {
        await client.close();
      }
    });
  }
});

describe('node-spdy\'s option shape', () => {
  it('spdy.protocols sets the ALPN list and its order: a client offering h2 and spdy/3.1 gets spdy/3.1 first', async () => {
    const server = createServer({ spdy: { protocols: ['spdy/3.1', 'h2', 'http/1.1'] } }, (_req: IncomingMessage, res: ServerResponse) => res.end('ok'));
    const port = await listen(server);
    try {
      const socket = tlsConnect({ host: '127.0.0.1', port, ALPNProtocols: ['h2', 'spdy/3.1'], rejectUnauthorized: false });
      await once(socket, 'secureConnect');
      assert.equal(socket.alpnProtocol, 'spdy/3.1');
      socket.destroy();
    } finally {
      await closed(server);
    }
  });

  it('spdy.connection.windowSize is the per-stream window announced in SETTINGS', async () => {
    const server = createServer({ spdy: { connection: { windowSize: 300_000 } } }, (_req: IncomingMessage, res: ServerResponse) => res.end('ok'));
    const port = await listen(server);
    try {
      const session = http2Connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
      const [settings] = (await once(session, 'remoteSettings')) as [{ initialWindowSize: number }];
      assert.equal(settings.initialWindowSize, 300_000);
      session.destroy();
    } finally {
      await closed(server);
    }
  });

  it('rejects an unknown protocol, a bad tuning value and a bad pushCache with a SpryError naming it', () => {
    assert.throws(() => createServer({ spdy: { protocols: ['h3'] } }), (error: unknown) => error instanceof SpryError && error.code === 'SPRY_ERR_CONFIG' && /unknown protocol "h3"/.test(error.message));
    assert.throws(() => createServer({ spdyWindow: 10 }), /spdyWindow must be a whole number of bytes from 1024/);
    assert.throws(() => createServer({ writeBuffer: 1.5 }), /writeBuffer must be a whole number/);
    assert.throws(() => createServer({ cache2: ['name=a,items=2'], pushCache: 'b' }), /pushCache "b" names none of cache2 \(a\)/);
    assert.throws(() => createServer({ httpTimeout: -1 }), /httpTimeout must be a number of seconds/);
  });
});

describe('createServer({ plain: true }, app): no TLS', () => {
  let server: SpryServer;
  let port: number;
  before(async () => {
    server = createServer({ plain: true }, (req: IncomingMessage, res: ServerResponse) => {
      res.setHeader('x-spdy-version', String(req.spdyVersion ?? 'none'));
      res.end(`plain ${req.httpVersion}`);
    });
    port = await listen(server);
  });
  after(() => closed(server));

  it('serves HTTP/1.1', async () => {
    const res = await new Promise<IncomingMessage>((resolve, reject) => httpRequest({ host: '127.0.0.1', port, path: '/' }, resolve).on('error', reject).end());
    let body = '';
    for await (const chunk of res) body += chunk;
    assert.equal(body, 'plain 1.1');
  });

  it('serves h2c with prior knowledge', async () => {
    const session = http2Connect(`http://127.0.0.1:${port}`);
    const stream = session.request({ ':path': '/' });
    let body = '';
    stream.setEncoding('utf8');
    for await (const chunk of stream) body += chunk;
    session.close();
    assert.equal(body, 'plain 2.0');
  });

  for (const [protocol, version] of [['spdy/3.1', '3.1'], ['spdy/2', '2']] as const) {
    it(`serves plain ${protocol}, told from HTTP/1.1 and h2c by its first frame`, async () => {
      const client = await SpdyClient.connect({ host: '127.0.0.1', port, protocol, plain: true });
      try {
        const response = await client.request('/');
        assert.equal(response.status, 200);
        assert.equal(response.body.toString(), 'plain 1.1');
        assert.equal(response.streamId, 1);
        // The server cannot tell spdy/3.1 from spdy/3 by bytes; it speaks the newest it offers.
        assert.equal(headerValue(response.headers, 'x-spdy-version'), version);
      } finally {
        client.session.destroy();
      }
    });
  }

  it('is the same as spdy: { plain: true }', async () => {
    const other = createServer({ spdy: { plain: true } }, (_req: IncomingMessage, res: ServerResponse) => res.end('x'));
    const otherPort = await listen(other);
    try {
      const res = await new Promise<IncomingMessage>((resolve, reject) => httpRequest({ host: '127.0.0.1', port: otherPort }, resolve).on('error', reject).end());
      res.resume();
      assert.equal(res.statusCode, 200);
    } finally {
      await closed(other);
    }
  });
});

describe('the http.Server surface', () => {
  it('address() answers right after listen(0), as supertest expects; listen({ port, host }) and the listening event work', async () => {
    const server = createServer((_req: IncomingMessage, res: ServerResponse) => res.end());
    assert.equal(server.listening, false);
    server.listen(0);
    assert.equal(typeof (server.address() as AddressInfo).port, 'number');
    await closed(server);
    const second = createServer({ plain: true });
    const listening = once(second, 'listening');
    second.listen({ port: 0, host: '127.0.0.1' });
    await listening;
    assert.equal(second.listening, true);
    assert.equal((second.address() as AddressInfo).address, '127.0.0.1');
    await closed(second);
  });

  it('emits request for every request, to listeners added after createServer too, and connection for every connection', async () => {
    const server = createServer({ plain: true });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => res.end(`late ${req.url}`));
    let connections = 0;
    server.on('connection', () => connections++);
    const port = await listen(server);
    const session = http2Connect(`http://127.0.0.1:${port}`);
    const stream = session.request({ ':path': '/x' });
    let body = '';
    for await (const chunk of stream) body += chunk;
    session.close();
    await closed(server);
    assert.equal(body, 'late /x');
    assert.equal(connections, 1);
  });

  it('close() is graceful: a request in flight on h2 finishes, the session gets GOAWAY, and the callback runs once the connection is gone', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const inFlight = new Promise<void>((resolve) => (started = resolve));
    const server = createServer({}, async (_req: IncomingMessage, res: ServerResponse) => {
      started();
      await released;
      res.end('finished');
    });
    const port = await listen(server);
    const session = http2Connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    const goaway = once(session, 'goaway');
    const stream = session.request({ ':path': '/' });
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    await inFlight;
    let closedNow = false;
    const done = closed(server).then(() => (closedNow = true));
    await goaway;
    assert.equal(closedNow, false, 'the server waits for the request in flight');
    release();
    await once(stream, 'end');
    await done;
    assert.equal(body, 'finished');
  });

  it('closeIdleConnections() closes idle HTTP/1.1 keep-alive connections and h2 sessions with no open stream, not a busy one', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const server = createServer({ plain: true }, async (req: IncomingMessage, res: ServerResponse) => {
      if (req.url === '/slow') await released;
      res.end(req.url);
    });
    const port = await listen(server);
    const idle = http2Connect(`http://127.0.0.1:${port}`);
    const first = idle.request({ ':path': '/fast' });
    first.resume();
    await once(first, 'end');
    const busy = http2Connect(`http://127.0.0.1:${port}`);
    const slow = busy.request({ ':path': '/slow' });
    let slowBody = '';
    slow.setEncoding('utf8');
    slow.on('data', (chunk: string) => (slowBody += chunk));
    await once(busy, 'remoteSettings');
    await new Promise((resolve) => setTimeout(resolve, 50)); // the slow request reaches the app
    const idleGoaway = once(idle, 'goaway');
    let busyGoaway = false;
    busy.on('goaway', () => (busyGoaway = true));
    server.closeIdleConnections();
    await idleGoaway;
    release();
    await once(slow, 'end');
    assert.equal(slowBody, '/slow');
    assert.equal(busyGoaway, false, 'the busy session is left alone');
    busy.close();
    await closed(server);
  });

  it('closeAllConnections() destroys every connection at once', async () => {
    const server = createServer({ plain: true }, () => {}); // never answers
    const port = await listen(server);
    const req = httpRequest({ host: '127.0.0.1', port, path: '/' });
    req.end();
    const failed = once(req, 'error');
    await once(server, 'request');
    server.closeAllConnections();
    const [error] = (await failed) as [NodeJS.ErrnoException];
    assert.equal(error.code, 'ECONNRESET');
    await closed(server);
  });
});

describe('apps that build their own server', () => {
  it('takes an http.Server and serves its request listeners (its own listen() never called)', async () => {
    const own = createHttpServer((_req, res) => res.end('from its own listener'));
    const server = createServer({ plain: true }, own);
    const port = await listen(server);
    const res = await new Promise<IncomingMessage>((resolve, reject) => httpRequest({ host: '127.0.0.1', port }, resolve).on('error', reject).end());
    let body = '';
    for await (const chunk of res) body += chunk;
    await closed(server);
    assert.equal(body, 'from its own listener');
    assert.equal(own.listening, false);
  });
});

describe("http.Server's knobs, on the HTTP/1.1 connections", () => {
  // What one request with five headers gets from a server whose maxHeadersCount is 2. Node 24
  // parses the first two and drops the rest; Node 26 answers 431. Either way spry must answer as
  // node:http of the same Node does, so the test asks node:http first.
  const FIVE_HEADERS = 'GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n';
  const countHeaders = (req: IncomingMessage, res: ServerResponse) => res.end(String(Object.keys(req.headers).length));

  async function exchange(port: number): Promise<string> {
    const { connect } = await import('node:net');
    const socket = connect(port, '127.0.0.1');
    socket.write(FIVE_HEADERS);
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    await once(socket, 'end');
    socket.destroy();
    return text;
  }
  // The status line and body, without the Date and Keep-Alive headers that differ run to run.
  const statusAndBody = (text: string) => `${text.slice(0, text.indexOf('\r\n'))} ${text.slice(text.indexOf('\r\n\r\n') + 4)}`;

  it('maxHeadersCount and keepAliveTimeout act as on node:http, and setTimeout()\'s callback gets the quiet socket', async (t) => {
    const reference = createHttpServer(countHeaders);
    reference.maxHeadersCount = 2;
    reference.keepAliveTimeout = 200;
    t.after(() => reference.closeAllConnections());
    t.after(() => reference.close());
    await new Promise<void>((resolve) => reference.listen(0, '127.0.0.1', resolve));
    const expected = statusAndBody(await exchange((reference.address() as AddressInfo).port));

    const server = createServer({ plain: true }, countHeaders);
    t.after(() => server.closeAllConnections());
    t.after(() => server.close());
    server.maxHeadersCount = 2;
    server.keepAliveTimeout = 200;
    assert.equal(server.maxHeadersCount, 2);
    assert.equal(server.keepAliveTimeout, 200);
    const timedOut: unknown[] = [];
    server.setTimeout(60_000, (socket) => timedOut.push(socket));
    assert.equal(server.timeout, 60_000);
    const port = await listen(server);
    // keepAliveTimeout (200 ms, not node's 5 s or spry's 60) ends the idle connection, or
    // node:http closes it after its 431.
    const text = await exchange(port);
    assert.equal(statusAndBody(text), expected, 'spry answers the five headers as node:http does');
    if (expected.startsWith('HTTP/1.1 200')) {
      assert.equal(expected, 'HTTP/1.1 200 OK 2', 'node:http parsed 2 of the 5 headers into req.headers');
      // As on node:http, the keep-alive timeout reaches 'timeout' listeners with the quiet socket.
      assert.equal(timedOut.length, 1);
    } else {
      assert.match(expected, /^HTTP\/1\.1 431 /, 'node:http refuses more headers than maxHeadersCount');
    }
  });
});
