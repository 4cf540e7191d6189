// One case list, run for every protocol the TLS port speaks (h2, spdy/3.1, spdy/3, spdy/2,
// http/1.1) and for both app adapters (a Node (req, res) listener and a fetch handler serving
// the same routes, ./app.ts). A case that cannot hold for a protocol is skipped there with its
// reason; today none is.
//
// Repeated request header names, as each protocol carries them and as the app sees them:
//
//   protocol   on the wire                                   server's header list
//   h2         one HPACK field per value (RFC 9113 §8.2.3      one entry per value
//              lets cookie be split into crumbs as well)
//   spdy/*     one name, values joined with NUL (SPDY/3 §2.6.10; names must be unique in a block)
//                                                            split back: one entry per value
//   http/1.1   one header line per value                     one entry per value
//
// so on every protocol a Node listener gets both values in req.rawHeaders and node:http's
// joining in req.headers ('a, b'; cookie 'c=1; d=2'), a fetch handler gets Headers.get()'s
// ('a, b'; undici joins cookie with '; ' too), and the environment joins them as a CGI gateway
// does (HTTP_X_MULTI 'a, b', HTTP_COOKIE 'c=1; d=2'). Repeated response fields arrive as
// repeated fields on h2 and HTTP/1.1 and as one NUL-joined value on SPDY, which our client
// splits: every set-cookie value arrives whole and separate on every protocol.

import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { connectClient, headerValue, headerValues, PROTOCOLS, type ProtocolClient, type ProtocolName } from '../helpers/protocol-clients.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { AbortLog, BODILESS_STATUSES, conformanceFetchApp, conformanceNodeApp, HELLO, largeBody, SET_COOKIES, STATUS_CODES_UNDER_TEST } from './app.ts';

type AppStyle = 'node' | 'fetch';

interface CaseContext {
  readonly client: ProtocolClient;
  readonly protocol: ProtocolName;
  readonly style: AppStyle;
  readonly log: AbortLog;
  /** The server's port on 127.0.0.1. */
  readonly port: number;
}

interface ConformanceCase {
  readonly name: string;
  readonly run: (context: CaseContext) => Promise<void>;
  /** Protocols this case cannot hold for, each with the reason. */
  readonly skip?: Partial<Record<ProtocolName, string>>;
}

const UPLOAD_BYTES = 4 << 20;
const UPLOAD_CHUNK_BYTES = 60_000;
const UPLOAD = (() => {
  const bytes = Buffer.allocUnsafe(UPLOAD_BYTES);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + (i >>> 12)) & 0xff;
  return bytes;
})();
const UPLOAD_SHA256 = sha256(UPLOAD);

const LARGE_BYTES = 50 << 20;
const LARGE_SHA256 = (() => {
  const hash = createHash('sha256');
  for (const chunk of largeBody(LARGE_BYTES)) hash.update(chunk);
  return hash.digest('hex');
})();

const CONCURRENT_REQUESTS = 200;
/** How long a discarded upload, or a request behind one, may take (on loopback: milliseconds). */
const SETTLE_MS = 1_000;
const RESET_AFTER_BYTES = 256 << 10;

const CASES: ConformanceCase[] = [
  {
    name: 'answers a GET with its status, headers and body',
    async run({ client, style }) {
      const response = await client.request({ path: '/hello' });
      assert.equal(response.status, 200);
      assert.equal(response.body.toString(), HELLO);
      assert.equal(headerValue(response.headers, 'content-type'), 'text/plain; charset=utf-8');
      assert.equal(headerValue(response.headers, 'content-length'), String(HELLO.length));
      assert.equal(headerValue(response.headers, 'x-conformance'), style);
    },
  },
  {
    name: "answers a HEAD with the GET's headers, content-length included, and no body",
    async run({ client, style }) {
      const response = await client.request({ method: 'HEAD', path: '/hello' });
      assert.equal(response.status, 200);
      assert.equal(response.body.length, 0);
      assert.equal(headerValue(response.headers, 'content-type'), 'text/plain; charset=utf-8');
      assert.equal(headerValue(response.headers, 'content-length'), String(HELLO.length));
      assert.equal(headerValue(response.headers, 'x-conformance'), style);
    },
  },
  {
    name: 'streams a 4 MiB request body to the app, which reads all of it (sha256 echoed)',
    async run({ client }) {
      const response = await client.request({
        method: 'POST',
        path: '/sha256',
        headers: [['content-type', 'application/octet-stream']],
        body: chunksOf(UPLOAD, UPLOAD_CHUNK_BYTES),
      });
      assert.equal(response.status, 200);
      assert.deepEqual(JSON.parse(response.body.toString()), { bytes: UPLOAD_BYTES, sha256: UPLOAD_SHA256 });
    },
  },
  {
    name: 'answers before reading a 4 MiB upload, and does not leave the upload hanging',
    async run({ client }) {
      // What the app left unread is the server's to drop or refuse (SPDY: discard it and return
      // the window; h2: read it, or RST_STREAM NO_ERROR after the response, RFC 9113 §8.1), or
      // the client's upload, and its stream, stay open for good.
      const response = await within(SETTLE_MS, client.request({ method: 'POST', path: '/ignore-body', body: UPLOAD }), 'the upload the app ignored was left hanging');
      assert.deepEqual([response.status, response.body.toString()], [200, 'ignored\n']);
    },
  },
  {
    name: 'answers before reading a 256 KiB upload, and answers the next request on the connection',
    async run({ client }) {
      // Small enough for the client to write it all and reuse the HTTP/1.1 connection, which
      // only works if the server reads past the body nobody wanted.
      const ignored = await within(SETTLE_MS, client.request({ method: 'POST', path: '/ignore-body', body: UPLOAD.subarray(0, 256 << 10) }), 'the upload the app ignored was left hanging');
      assert.deepEqual([ignored.status, ignored.body.toString()], [200, 'ignored\n']);
      const next = await within(SETTLE_MS, client.request({ path: '/hello' }), 'the next request was never answered');
      assert.deepEqual([next.status, next.body.toString()], [200, HELLO]);
    },
  },
  {
    name: 'streams a 50 MiB response whose length and sha256 match (hashed as it arrives)',
    async run({ client }) {
      const hash = createHash('sha256');
      let received = 0;
      const response = await client.request({
        path: `/large?bytes=${LARGE_BYTES}`,
        onBody(chunk) {
          received += chunk.length;
          hash.update(chunk);
        },
      });
      assert.equal(response.status, 200);
      assert.equal(headerValue(response.headers, 'content-length'), String(LARGE_BYTES));
      assert.equal(received, LARGE_BYTES);
      assert.equal(hash.digest('hex'), LARGE_SHA256);
    },
  },
  {
    name: `serves ${CONCURRENT_REQUESTS} concurrent requests on one client, each its own answer`,
    async run({ client }) {
      const ids = Array.from({ length: CONCURRENT_REQUESTS }, (_, i) => i);
      const responses = await Promise.all(ids.map((i) => client.request({ path: `/id/${i}` })));
      assert.deepEqual(
        responses.map((response) => `${response.status} ${response.body.toString()}`),
        ids.map((i) => `200 ${i}`),
      );
    },
  },
  {
    name: 'shows the app both values of a repeated request header, joined as node:http and CGI join them',
    async run({ client }) {
      const response = await client.request({
        path: '/headers',
        headers: [
          ['x-multi', 'a'],
          ['x-multi', 'b'],
          ['cookie', 'c=1'],
          ['cookie', 'd=2'],
        ],
      });
      assert.equal(response.status, 200);
      assert.deepEqual(JSON.parse(response.body.toString()), {
        multi: 'a, b',
        cookie: 'c=1; d=2',
        rawMulti: ['a', 'b'],
        environMulti: 'a, b',
        environCookie: 'c=1; d=2',
      });
    },
  },
  {
    name: 'delivers every value of a repeated response header, each set-cookie whole and separate',
    async run({ client }) {
      const response = await client.request({ path: '/headers' });
      assert.equal(response.status, 200);
      assert.deepEqual(headerValues(response.headers, 'set-cookie'), SET_COOKIES);
      // Other fields may be sent repeated or comma-joined (RFC 9110 §5.3); the values must be both.
      assert.equal(headerValue(response.headers, 'x-multi-out'), 'p, q');
    },
  },
  {
    name: `sends ${STATUS_CODES_UNDER_TEST.join(', ')} with their bodies, and 204 and 304 with none`,
    async run({ client }) {
      for (const status of STATUS_CODES_UNDER_TEST) {
        const response = await client.request({ path: `/status/${status}` });
        assert.equal(response.status, status);
        assert.equal(response.body.toString(), BODILESS_STATUSES.has(status) ? '' : `status ${status}\n`, `the body of ${status}`);
      }
      // The connection is still in step after the bodiless ones.
      assert.equal((await client.request({ path: '/hello' })).body.toString(), HELLO);
    },
  },
  {
    name: 'answers 500 when the app throws, and the same client keeps working',
    async run({ client }) {
      const [failed, fine] = await Promise.all([client.request({ path: '/throw' }), client.request({ path: '/hello' })]);
      assert.equal(failed.status, 500);
      assert.deepEqual([fine.status, fine.body.toString()], [200, HELLO]);
      const after = await client.request({ path: '/hello' });
      assert.deepEqual([after.status, after.body.toString()], [200, HELLO]);
    },
  },
  {
    name: 'answers 500 when the app throws before reading a 4 MiB upload, and does not leave the upload hanging',
    async run({ client }) {
      const failed = await within(SETTLE_MS, client.request({ method: 'POST', path: '/throw', body: UPLOAD }), 'the upload the failed app ignored was left hanging');
      assert.equal(failed.status, 500);
      const next = await within(SETTLE_MS, client.request({ path: '/hello' }), 'the next request was never answered');
      assert.deepEqual([next.status, next.body.toString()], [200, HELLO]);
    },
  },
  {
    name: 'tells the app when the client resets mid-response, and keeps serving',
    async run({ client, log }) {
      const token = randomUUID();
      await client.resetMidResponse(`/endless?token=${token}`, RESET_AFTER_BYTES);
      assert.equal(await within(5_000, log.ended(token), 'the app never learned of the reset'), 'aborted');
      const response = await client.request({ path: '/hello' });
      assert.deepEqual([response.status, response.body.toString()], [200, HELLO]);
    },
  },
  {
    name: "gives the app its protocol's environment (SERVER_PROTOCOL, HTTPS, SPDY or HTTP2 markers)",
    async run({ client, protocol, port }) {
      const response = await client.request({ path: '/environ?x=1' });
      assert.equal(response.status, 200);
      const env = JSON.parse(response.body.toString()) as Record<string, string>;
      const spdyVersion = protocol.startsWith('spdy/') ? protocol.slice(5) : undefined;
      const markers = Object.fromEntries(Object.entries(env).filter(([key]) => /^(SPDY|HTTP2)(\.|$)/.test(key)));
      const streamId = env['SPDY.stream'] ?? env['HTTP2.stream'];
      assert.deepEqual(
        {
          SERVER_PROTOCOL: env.SERVER_PROTOCOL,
          HTTPS: env.HTTPS,
          UWSGI_SCHEME: env.UWSGI_SCHEME,
          HTTP_HOST: env.HTTP_HOST,
          SERVER_NAME: env.SERVER_NAME,
          SERVER_PORT: env.SERVER_PORT,
          REQUEST_METHOD: env.REQUEST_METHOD,
          PATH_INFO: env.PATH_INFO,
          QUERY_STRING: env.QUERY_STRING,
          markers,
        },
        {
          SERVER_PROTOCOL: protocol === 'h2' ? 'HTTP/2.0' : 'HTTP/1.1',
          HTTPS: 'on',
          UWSGI_SCHEME: 'https',
          // h2's :authority, SPDY's :host (v2: host), HTTP/1.1's Host: one HTTP_HOST.
          HTTP_HOST: `127.0.0.1:${port}`,
          SERVER_NAME: '127.0.0.1',
          SERVER_PORT: String(port),
          REQUEST_METHOD: 'GET',
          PATH_INFO: '/environ',
          QUERY_STRING: 'x=1',
          markers:
            spdyVersion !== undefined
              ? { SPDY: 'on', 'SPDY.version': spdyVersion, 'SPDY.stream': streamId }
              : protocol === 'h2'
                ? { HTTP2: 'on', 'HTTP2.stream': streamId }
                : {},
        },
      );
      // Streams the client opens have odd ids on both SPDY and h2.
      if (protocol !== 'http/1.1') assert.equal(Number(streamId) % 2, 1, `stream id ${streamId}`);
    },
  },
];

const APP_STYLES: { style: AppStyle; title: string; make: (log: AbortLog) => object }[] = [
  { style: 'node', title: 'a Node (req, res) listener', make: conformanceNodeApp },
  { style: 'fetch', title: 'a fetch handler (fetch(request, env))', make: conformanceFetchApp },
];

for (const { style, title, make } of APP_STYLES) {
  describe(`conformance: ${title}`, () => {
    const log = new AbortLog();
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ app: make(log) });
    });
    // A short grace: a connection a failing case wedged must not hold the suite for the default 10 s.
    after(() => server.listener.close(1_000));

    for (const protocol of PROTOCOLS) {
      describe(protocol, () => {
        for (const testCase of CASES) {
          const skip = testCase.skip?.[protocol];
          // A client per case: a case that wedges its connection cannot fail the ones after it.
          it(testCase.name, { skip: skip ?? false, timeout: 30_000 }, async () => {
            const client = await connectClient(protocol, { host: '127.0.0.1', port: server.port });
            try {
              await testCase.run({ client, protocol, style, log, port: server.port });
            } finally {
              await client.close();
            }
          });
        }
      });
    }
  });
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function* chunksOf(buffer: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buffer.length; i += size) yield buffer.subarray(i, i + size);
}

function within<T>(ms: number, promise: Promise<T>, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
