// Push as spry's own SPDY client (src/spdy/client.ts) meets it, on spdy/2, spdy/3 and spdy/3.1:
// the session's 'push' event hands over each pushed stream with its headers and the id of the
// request it came with; a client that resets a push still gets its page.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readBody, SpdyClient } from '../../src/spdy/client.ts';
import { RstStatus } from '../../src/spdy/constants.ts';
import type { SpdyStream } from '../../src/spdy/stream.ts';
import type { SpdyAlpn } from '../../src/spdy/versions.ts';
import type { FlatHeaders } from '../../src/exchange/exchange.ts';
import { PAGE_BODY } from '../fixtures/push-app.ts';
import { header } from '../helpers/raw-spdy-peer.ts';
import type { TestServer } from '../helpers/server.ts';
import { CACHED, linkPath, preload, startPushServer } from './push-setup.ts';

const VERSIONS: readonly SpdyAlpn[] = ['spdy/2', 'spdy/3', 'spdy/3.1'];

interface SeenPush {
  readonly stream: SpdyStream;
  readonly headers: FlatHeaders;
  readonly associatedStreamId: number;
}

let server: TestServer;
before(async () => {
  server = await startPushServer();
});
after(() => server.close());

/** A client that records every push and every protocol error its session reports. */
async function connect(alpn: SpdyAlpn, onPush: (push: SeenPush) => void): Promise<{ client: SpdyClient; pushes: SeenPush[]; errors: Error[] }> {
  const client = await SpdyClient.connect({ host: '127.0.0.1', port: server.port, protocol: alpn });
  const pushes: SeenPush[] = [];
  const errors: Error[] = [];
  client.session.on('protocolError', (error: Error) => errors.push(error));
  client.session.on('push', (stream, headers, associatedStreamId) => {
    const push = { stream, headers, associatedStreamId };
    pushes.push(push);
    onPush(push);
  });
  return { client, pushes, errors };
}

function pathOf(alpn: SpdyAlpn, headers: FlatHeaders): string {
  return alpn === 'spdy/2' ? new URL(header(headers, 'url') ?? '').pathname : (header(headers, ':path') ?? '');
}

for (const alpn of VERSIONS) {
  describe(`${alpn}: SpdyClient and push`, () => {
    it('hands each push to the \'push\' event with its headers and the request\'s stream id; the bytes are the cached ones', async () => {
      const bodies = new Map<string, Promise<Buffer>>();
      const { client, pushes, errors } = await connect(alpn, (push) => bodies.set(pathOf(alpn, push.headers), readBody(push.stream)));
      try {
        const page = await client.request('/page');
        assert.equal(page.status, 200);
        assert.equal(page.body.toString(), PAGE_BODY);
        assert.deepEqual(pushes.map((push) => [push.associatedStreamId, pathOf(alpn, push.headers)]), [[page.streamId, '/style.css'], [page.streamId, '/app.js']]);
        for (const [path, body] of bodies) assert.deepEqual(await body, CACHED[path].body, `bytes of ${path}`);
        for (const push of pushes) assert.equal(header(push.headers, 'content-type'), CACHED[pathOf(alpn, push.headers)].contentType);
        assert.deepEqual(errors, []);
      } finally {
        await client.close();
      }
    });

    it('still gets the main response whole when it resets every push as soon as it is announced', async () => {
      const { client, pushes, errors } = await connect(alpn, (push) => client.session.resetStream(push.stream, RstStatus.CANCEL));
      try {
        const page = await client.request(linkPath(preload('/big.bin'), preload('/style.css'), preload('/app.js')));
        assert.equal(page.status, 200);
        assert.equal(page.body.toString(), 'links: 3\n');
        assert.deepEqual(pushes.map((push) => pathOf(alpn, push.headers)), ['/big.bin', '/style.css', '/app.js']);
        for (const push of pushes) assert.equal(push.stream.closed, true);
        // DATA the server sent before it read the resets is dropped quietly; the session goes on.
        const next = await client.request('/page');
        assert.equal(next.body.toString(), PAGE_BODY);
        assert.equal(client.session.destroyed, false);
        assert.deepEqual(errors, []);
      } finally {
        await client.close();
      }
    });
  });
}
