// Strict request heads on every protocol (docs/request-heads.md): a method that is not a token,
// a target that is not origin-form (or `*` but for OPTIONS), a bad host, CR/LF/NUL in a header
// never reach the app. SPDY and h2 answer RST_STREAM PROTOCOL_ERROR, HTTP/1.1 and the uwsgi front
// end a 400 naming the problem; the connection (SPDY, h2) and other clients are served on.

import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { appFromExport } from '../../src/apps/load-module.ts';
import { DEFAULTS } from '../../src/config/config.ts';
import { RstStatus } from '../../src/spdy/constants.ts';
import { encodeUwsgiRequest } from '../../src/uwsgi/packet.ts';
import { createUwsgiHandler } from '../../src/listen/uwsgi-listener.ts';
import type { ConnectionHandler } from '../../src/listen/connection-handler.ts';
import { RawH2Peer } from '../helpers/raw-h2-peer.ts';
import { RawSpdyPeer } from '../helpers/raw-spdy-peer.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const H2_PROTOCOL_ERROR = 1;

/** Every target the app was asked for: a bad one must never appear. */
const seen: string[] = [];
function recordingApp(req: IncomingMessage, res: ServerResponse): void {
  seen.push(`${req.method} ${req.url}`);
  res.end('served');
}

let server: TestServer;
let uwsgi: ConnectionHandler;
let uwsgiPort: number;
before(async () => {
  server = await startTestServer({ app: recordingApp });
  uwsgi = createUwsgiHandler(appFromExport(recordingApp, 'test'), { idleTimeoutMs: 10_000, tuning: DEFAULTS.tuning });
  await new Promise<void>((resolve) => uwsgi.server.listen(0, '127.0.0.1', resolve));
  uwsgiPort = (uwsgi.server.address() as AddressInfo).port;
});
after(async () => {
  await server.close();
  uwsgi.server.close();
});

function assertNeverServed(what: string): void {
  assert.ok(!seen.some((line) => line.includes(what)), `the app saw ${JSON.stringify(what)}: ${JSON.stringify(seen)}`);
}

for (const alpn of ['spdy/2', 'spdy/3', 'spdy/3.1'] as const) {
  describe(`bad request heads on ${alpn} are reset with PROTOCOL_ERROR before the app sees them`, () => {
    // (SPDY/2's url may be an absolute URL, so `http://x` is a request for / there.)
    const v3 = alpn !== 'spdy/2';
    const cases: { name: string; path?: string; method?: string; host?: string; extra?: string[]; marker: string }[] = [
      ...(v3 ? [{ name: 'an absolute URL as :path', path: 'http://x', marker: 'http://x' }] : []),
      { name: 'a path without a leading slash', path: 'x', marker: ' x' },
      { name: 'a path with a space', path: '/a b', marker: '/a b' },
      { name: 'a path with DEL', path: '/del\x7f', marker: '/del' },
      { name: 'a path with byte 0xff', path: '/high\xff', marker: '/high' },
      { name: '* with GET', path: '*', marker: 'GET *' },
      { name: 'a method that is not a token', method: 'G T', path: '/bad-method', marker: '/bad-method' },
      { name: 'a host with a space', host: 'a b', path: '/bad-host', marker: '/bad-host' },
      { name: 'a header value with CR LF', extra: ['x-injected', 'a\r\nb'], path: '/bad-value', marker: '/bad-value' },
      { name: 'a header name that is not a token', extra: ['x(y)', 'v'], path: '/bad-name', marker: '/bad-name' },
    ];
    for (const [index, c] of cases.entries()) {
      it(`refuses ${c.name}; the next stream and another connection are served`, async () => {
        const bystander = await RawSpdyPeer.connect(server.port, alpn);
        const peer = await RawSpdyPeer.connect(server.port, alpn);
        try {
          const headers = peer.requestHeaders(c.path ?? '/', { method: c.method, extra: c.extra });
          if (c.host !== undefined) headers[headers.indexOf(peer.version.headers.host) + 1] = c.host;
          peer.write(peer.synStream(1, headers, { fin: true }));
          const rst = await peer.nextOfType('RST_STREAM', 1);
          assert.equal(rst.status, RstStatus.PROTOCOL_ERROR);
          assert.deepEqual(peer.framesOf('SYN_REPLY'), []);

          bystander.write(bystander.request(1, `/bystander-${alpn}-${index}`));
          assert.equal((await bystander.response(1)).status, 200);
          peer.write(peer.request(3, `/after-${alpn}-${index}`));
          assert.equal((await peer.response(3)).status, 200);
          assert.deepEqual(peer.framesOf('GOAWAY'), []);
          assertNeverServed(c.marker);
        } finally {
          peer.close();
          bystander.close();
        }
      });
    }

    it('serves OPTIONS *', async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        peer.write(peer.request(1, '*', { method: 'OPTIONS' }));
        assert.equal((await peer.response(1)).status, 200);
        assert.ok(seen.includes('OPTIONS *'));
      } finally {
        peer.close();
      }
    });
  });
}

describe('bad request heads on h2 are reset with PROTOCOL_ERROR before the app sees them', () => {
  const request = (path: string, extra: [string, string][] = [], method = 'GET', authority = 'localhost'): [string, string][] => [
    [':method', method],
    [':scheme', 'https'],
    [':path', path],
    [':authority', authority],
    ...extra,
  ];
  const cases: { name: string; fields: [string, string][]; marker: string }[] = [
    { name: 'an absolute URL as :path', fields: request('http://x/h2-absolute'), marker: 'h2-absolute' },
    { name: 'a path without a leading slash', fields: request('h2-relative'), marker: 'h2-relative' },
    { name: 'a path with a space', fields: request('/h2 space'), marker: 'h2 space' },
    { name: 'a path with DEL', fields: request('/h2-del\x7f'), marker: 'h2-del' },
    { name: 'a path with byte 0xff (nghttp2 lets it through)', fields: request('/h2-high\xff'), marker: 'h2-high' },
    { name: '* with GET (nghttp2 refuses it)', fields: request('*'), marker: 'GET *' },
    { name: 'a port that is not digits (nghttp2 lets it through)', fields: request('/h2-port', [], 'GET', 'localhost:x'), marker: 'h2-port' },
    { name: 'CONNECT (spry does not tunnel)', fields: [[':method', 'CONNECT'], [':authority', 'localhost:443']], marker: 'CONNECT' },
  ];
  for (const [index, c] of cases.entries()) {
    it(`refuses ${c.name}; the next stream and another connection are served`, async () => {
      const bystander = await RawH2Peer.connect(server.port);
      const peer = await RawH2Peer.connect(server.port);
      try {
        peer.request(1, c.fields);
        assert.deepEqual(await peer.outcome(1), { kind: 'reset', code: H2_PROTOCOL_ERROR });
        bystander.request(1, request(`/h2-bystander-${index}`));
        assert.deepEqual(await bystander.outcome(1), { kind: 'response' });
        peer.request(3, request(`/h2-after-${index}`));
        assert.deepEqual(await peer.outcome(3), { kind: 'response' });
        assertNeverServed(c.marker);
      } finally {
        peer.close();
        bystander.close();
      }
    });
  }
});

/** Writes `bytes` on a fresh connection and returns everything read until the server closes it. */
function exchangeBytes(open: () => import('node:net').Socket, bytes: Buffer | string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = open();
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close the connection; it sent ${JSON.stringify(text)}`));
    }, 3000);
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    socket.write(bytes);
  });
}

const http1 = () => tlsConnect({ host: '127.0.0.1', port: server.port, ALPNProtocols: ['http/1.1'], rejectUnauthorized: false });

describe('bad request heads on HTTP/1.1 get a 400 before the app sees them', () => {
  const cases: { name: string; head: string; marker: string }[] = [
    { name: 'an absolute-form target (node:http lets it through)', head: 'GET http://localhost/h1-absolute HTTP/1.1\r\nHost: localhost', marker: 'h1-absolute' },
    { name: '* with GET (node:http lets it through)', head: 'GET * HTTP/1.1\r\nHost: localhost', marker: 'GET *' },
    { name: 'a fragment in the target (node:http lets it through)', head: 'GET /h1-frag#x HTTP/1.1\r\nHost: localhost', marker: 'h1-frag' },
    { name: 'a Host with a space (node:http lets it through)', head: 'GET /h1-host HTTP/1.1\r\nHost: a b', marker: 'h1-host' },
    { name: 'a Host with userinfo (node:http lets it through)', head: 'GET /h1-user HTTP/1.1\r\nHost: user@localhost', marker: 'h1-user' },
    { name: 'two Host headers (node:http lets them through)', head: 'GET /h1-two HTTP/1.1\r\nHost: a\r\nHost: b', marker: 'h1-two' },
    { name: 'CONNECT (node:http would close without an answer)', head: 'CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443', marker: 'CONNECT' },
    { name: 'a path with DEL (node:http refuses it)', head: 'GET /h1-del\x7f HTTP/1.1\r\nHost: localhost', marker: 'h1-del' },
    { name: 'a header value with a bare CR (node:http refuses it)', head: 'GET /h1-cr HTTP/1.1\r\nHost: localhost\r\nX: a\rb', marker: 'h1-cr' },
  ];
  for (const [index, c] of cases.entries()) {
    it(`refuses ${c.name}; another connection is served`, async () => {
      const bystander = http1();
      const reply = await exchangeBytes(http1, `${c.head}\r\n\r\n`);
      assert.match(reply, /^HTTP\/1\.1 400 /);
      bystander.destroy();
      const next = await exchangeBytes(http1, `GET /h1-after-${index} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
      assert.match(next, /^HTTP\/1\.1 200 /);
      assertNeverServed(c.marker);
    });
  }

  it('names the problem in the 400 (a stable code in the trace, the message in the body)', async () => {
    const reply = await exchangeBytes(http1, 'GET http://localhost/ HTTP/1.1\r\nHost: localhost\r\n\r\n');
    assert.match(reply, /\r\n\r\nBad Request: request target "http:\/\/localhost\/" is not origin-form\n$/);
    assert.match(reply, /\r\nconnection: close\r\n/i);
  });

  it('serves OPTIONS *', async () => {
    const reply = await exchangeBytes(http1, 'OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 200 /);
  });
});

describe('bad request heads on the uwsgi front end get a 400 before the app sees them', () => {
  const uwsgiSocket = () => netConnect(uwsgiPort, '127.0.0.1');
  const vars = (extra: Record<string, string>): Record<string, string> => ({
    REQUEST_METHOD: 'GET',
    REQUEST_URI: '/',
    SERVER_PROTOCOL: 'HTTP/1.1',
    HTTP_HOST: 'localhost',
    ...extra,
  });
  const cases: { name: string; vars: Record<string, string>; marker: string }[] = [
    { name: 'an absolute-form REQUEST_URI', vars: vars({ REQUEST_URI: 'http://x/uw-absolute' }), marker: 'uw-absolute' },
    { name: 'a REQUEST_URI with a space', vars: vars({ REQUEST_URI: '/uw space' }), marker: 'uw space' },
    { name: 'a REQUEST_URI with byte 0xff', vars: vars({ REQUEST_URI: '/uw-high\xff' }), marker: 'uw-high' },
    { name: 'a REQUEST_METHOD that is not a token', vars: vars({ REQUEST_METHOD: 'G T', REQUEST_URI: '/uw-method' }), marker: 'uw-method' },
    { name: 'an HTTP_HOST with a slash', vars: vars({ HTTP_HOST: 'a/b', REQUEST_URI: '/uw-host' }), marker: 'uw-host' },
    { name: 'a header value with CR LF', vars: vars({ HTTP_X_INJECTED: 'a\r\nb', REQUEST_URI: '/uw-value' }), marker: 'uw-value' },
    { name: 'a header value with NUL', vars: vars({ HTTP_X_NUL: 'a\0b', REQUEST_URI: '/uw-nul' }), marker: 'uw-nul' },
    { name: 'a header name that is not a token', vars: vars({ 'HTTP_X(Y)': 'v', REQUEST_URI: '/uw-name' }), marker: 'uw-name' },
  ];
  for (const [index, c] of cases.entries()) {
    it(`refuses ${c.name}; another connection is served`, async () => {
      const reply = await exchangeBytes(uwsgiSocket, encodeUwsgiRequest(c.vars));
      assert.match(reply, /^HTTP\/1\.1 400 /);
      assert.match(reply, /\r\n\r\nBad Request: /);
      const next = await exchangeBytes(uwsgiSocket, encodeUwsgiRequest(vars({ REQUEST_URI: `/uw-after-${index}` })));
      assert.match(next, /^HTTP\/1\.1 200 /);
      assertNeverServed(c.marker);
    });
  }
});
