// node-spdy's res.push(path, { request, response }[, cb]) on a createServer server: the pushed
// body a client sees on SPDY (our client) and h2 (node:http2's), the stream that discards where
// there is no push (HTTP/1.1, push: false, a client that refused it), and no throw either way.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as http2Connect, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createServer, type SpryServer } from '../../src/index.ts';
import { SpdyClient, readBody } from '../../src/spdy/client.ts';
import { headerValue } from '../../src/exchange/flat-headers.ts';

const SCRIPT = 'console.log("pushed");\n'.repeat(2000); // several DATA frames

/** Pushes /main.js in two writes (the second after a turn of the event loop), then answers the page. */
function pushingApp(outcomes: string[]) {
  return (_req: IncomingMessage, res: ServerResponse) => {
    const stream: Writable = res.push('/main.js', { request: { accept: '*/*' }, response: { 'content-type': 'application/javascript' } }, (error) => {
      outcomes.push(error === null ? 'callback' : `callback ${error.message}`);
    });
    stream.on('error', (error) => outcomes.push(`error ${error.message}`));
    stream.write(SCRIPT.slice(0, 1000));
    setImmediate(() => {
      stream.end(SCRIPT.slice(1000));
      res.end('<script src="/main.js"></script>');
    });
  };
}

function listen(server: SpryServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

describe('res.push() on a createServer server', () => {
  const outcomes: string[] = [];
  let server: SpryServer;
  let noPush: SpryServer;
  let port: number;
  let noPushPort: number;
  before(async () => {
    server = createServer({}, pushingApp(outcomes));
    noPush = createServer({ push: false }, pushingApp(outcomes));
    [port, noPushPort] = await Promise.all([listen(server), listen(noPush)]);
  });
  after(async () => {
    await Promise.all([server, noPush].map((s) => new Promise((resolve) => s.close(resolve))));
    assert.ok(!outcomes.some((outcome) => outcome.startsWith('error')), `no push stream errored: ${outcomes.join('; ')}`);
  });

  for (const protocol of ['spdy/3.1', 'spdy/3', 'spdy/2'] as const) {
    it(`pushes the written body with its response headers over ${protocol}, before the page ends`, async () => {
      const client = await SpdyClient.connect({ host: '127.0.0.1', port, protocol });
      try {
        const pushed = once(client.session, 'push');
        const page = await client.request('/');
        assert.equal(page.body.toString(), '<script src="/main.js"></script>');
        const [stream, headers] = (await pushed) as [Parameters<typeof readBody>[0], string[]];
        assert.equal(headerValue(headers, 'content-type'), 'application/javascript');
        const path = protocol === 'spdy/2' ? new URL(headerValue(headers, 'url')!).pathname : headerValue(headers, ':path');
        assert.equal(path, '/main.js');
        assert.equal((await readBody(stream)).toString(), SCRIPT);
      } finally {
        client.session.destroy();
      }
    });
  }

  it('pushes over h2 with a PUSH_PROMISE carrying the request headers, and the response with its headers', async () => {
    const session = http2Connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    try {
      const pushed = new Promise<{ request: IncomingHttpHeaders; response: IncomingHttpHeaders; body: string }>((resolve) => {
        session.on('stream', (stream: ClientHttp2Stream, request: IncomingHttpHeaders) => {
          stream.on('push', (response: IncomingHttpHeaders) => {
            let body = '';
            stream.setEncoding('utf8');
            stream.on('data', (chunk: string) => (body += chunk));
            stream.on('end', () => resolve({ request, response, body }));
          });
        });
      });
      const page = session.request({ ':path': '/' });
      page.resume();
      await once(page, 'end');
      const { request, response, body } = await pushed;
      assert.equal(request[':path'], '/main.js');
      assert.equal(request.accept, '*/*');
      assert.equal(response[':status'], 200);
      assert.equal(response['content-type'], 'application/javascript');
      assert.equal(body, SCRIPT);
    } finally {
      session.destroy();
    }
  });

  it('gives a stream that discards, without a throw, over HTTP/1.1, with push: false, and to an h2 client that set enablePush: false', async () => {
    const before = outcomes.length;
    const h1 = await new Promise<IncomingMessage>((resolve, reject) => httpsRequest({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] } as RequestOptions, resolve).on('error', reject).end());
    let h1Body = '';
    for await (const chunk of h1) h1Body += chunk;
    assert.equal(h1Body, '<script src="/main.js"></script>');
    for (const [target, settings] of [[noPushPort, {}], [port, { enablePush: false }]] as const) {
      const session = http2Connect(`https://127.0.0.1:${target}`, { rejectUnauthorized: false, settings });
      let pushes = 0;
      session.on('stream', () => pushes++);
      const page = session.request({ ':path': '/' });
      let body = '';
      page.setEncoding('utf8');
      page.on('data', (chunk: string) => (body += chunk));
      await once(page, 'end');
      session.destroy();
      assert.equal(body, '<script src="/main.js"></script>');
      assert.equal(pushes, 0);
    }
    assert.deepEqual(outcomes.slice(before), ['callback', 'callback', 'callback']);
  });
});
