// An app that throws fails only its own stream: a 500 on that stream, while a concurrent stream
// on the same connection gets its 200 and the connection goes on.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SpdyClient } from '../../src/spdy/client.ts';
import { patternBytes } from '../helpers/raw-spdy-peer.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

describe('app errors', () => {
  for (const alpn of ['spdy/2', 'spdy/3', 'spdy/3.1'] as const) {
    it(`${alpn}: an app that throws gets a 500 on that stream only; a concurrent stream gets 200`, { timeout: 10_000 }, async () => {
      const client = await SpdyClient.connect({ host: '127.0.0.1', port: server.port, protocol: alpn });
      try {
        const slow = client.request('/slow?ms=200');
        const failing = client.request('/error');
        const [slowResponse, errorResponse] = await Promise.all([slow, failing]);
        assert.equal(errorResponse.status, 500);
        assert.equal(errorResponse.body.toString(), 'Internal Server Error\n');
        assert.equal(slowResponse.status, 200);
        assert.equal(slowResponse.body.toString(), 'slow done\n');

        const after = await client.request('/bytes?n=500');
        assert.equal(after.status, 200);
        assert.ok(after.body.equals(patternBytes(500)));
        assert.equal(client.session.destroyed, false);
      } finally {
        await client.close();
      }
    });
  }
});
