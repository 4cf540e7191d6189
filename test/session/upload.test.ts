// Inbound flow control (docs/spdy-protocol.md §6): a 100 MiB upload through our own SpdyClient completes with the
// right byte count and SHA-256 on every version, so the server keeps reopening the stream (and
// on 3.1 the session) window as the app consumes the body. The data is generated in chunks and
// hashed as it is sent, so nothing holds 100 MiB.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SpdyClient } from '../../src/spdy/client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { xorshiftBytes } from '../helpers/xorshift-bytes.ts';

const UPLOAD_BYTES = 100 << 20;
const CHUNK_BYTES = 1 << 20;

/** Pseudo-random bytes (xorshift32), one chunk plus 256 so every chunk can start at its own offset. */
const SOURCE = xorshiftBytes(CHUNK_BYTES + 256, 0x5eed_1234);

/** Yields `total` deterministic bytes in chunks (never the same chunk twice in a row), hashing them. */
function* deterministicBody(total: number, hash: ReturnType<typeof createHash>): Generator<Buffer> {
  for (let sent = 0, k = 0; sent < total; k++) {
    const length = Math.min(CHUNK_BYTES, total - sent);
    const start = (k * 97) % 256;
    const chunk = SOURCE.subarray(start, start + length);
    hash.update(chunk);
    sent += length;
    yield chunk;
  }
}

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

describe('uploads', () => {
  for (const alpn of ['spdy/2', 'spdy/3', 'spdy/3.1'] as const) {
    it(`${alpn}: a 100 MiB upload to /upload?format=json completes with the right size and sha256`, { timeout: 20_000 }, async () => {
      const client = await SpdyClient.connect({ host: '127.0.0.1', port: server.port, protocol: alpn });
      try {
        const hash = createHash('sha256');
        const response = await client.request('/upload?format=json', {
          method: 'POST',
          headers: ['content-type', 'application/octet-stream', 'content-length', String(UPLOAD_BYTES)],
          body: deterministicBody(UPLOAD_BYTES, hash),
        });
        assert.equal(response.status, 200);
        assert.deepEqual(JSON.parse(response.body.toString()), { bytes: UPLOAD_BYTES, sha256: hash.digest('hex') });
      } finally {
        await client.close();
      }
    });
  }
});
