// Small responses are not held back by the transport. With Nagle's algorithm left on, the
// server's reply to a request sent right after the handshake (as browsers do) waits for the
// client's delayed ACK of the server's SETTINGS — 40 ms or more on Linux — because SETTINGS is
// still unacknowledged when the reply is written. A server that sets TCP_NODELAY answers at once.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawSpdyPeer } from '../helpers/raw-spdy-peer.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** Linux's minimum delayed-ACK time is 40 ms; a reply well under it was not held by Nagle. */
const NAGLE_FREE_MS = 30;
const CONNECTIONS = 7;

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

async function firstRequestMs(alpn: 'spdy/2' | 'spdy/3' | 'spdy/3.1'): Promise<number> {
  const peer = await RawSpdyPeer.connect(server.port, alpn);
  try {
    // As a browser does: the request goes out at once, before the server's SETTINGS is read.
    const started = performance.now();
    peer.write(peer.request(1, '/bytes?n=10'));
    const response = await peer.response(1);
    assert.equal(response.status, 200);
    return performance.now() - started;
  } finally {
    peer.close();
  }
}

describe('latency', () => {
  for (const alpn of ['spdy/2', 'spdy/3', 'spdy/3.1'] as const) {
    it(`${alpn}: the first request on a fresh connection is answered without a delayed-ACK stall (TCP_NODELAY)`, async () => {
      await firstRequestMs(alpn); // warm up (JIT, lazy initialisation)
      const times: number[] = [];
      for (let i = 0; i < CONNECTIONS; i++) times.push(await firstRequestMs(alpn));
      times.sort((a, b) => a - b);
      const median = times[CONNECTIONS >> 1];
      assert.ok(median < NAGLE_FREE_MS, `median first-request time ${median.toFixed(1)} ms (all: ${times.map((t) => t.toFixed(0)).join(' ')})`);
    });
  }
});
