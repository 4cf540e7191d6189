// Stalled streams: a client that keeps a stream's window at 0 holds the response queued for it
// for as long as it likes (1,000 such streams held ~74 MB). Past --http-timeout without
// progress the stream is reset with RST_STREAM CANCEL, even while the client keeps the
// connection busy with PINGs; and a session whose every stream is stalled is idle, so the idle
// timeout closes it. h2: node:http2 streams get the same reset, also while the client pings
// (node:http2's own stream timer re-arms whenever its session writes anything, PING
// acknowledgements included, so spry watches the stream's own bytes: src/http2/stall-watch.ts).

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as http2Connect, constants as http2Constants } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { RstStatus } from '../../src/spdy/constants.ts';
import { assertBystanderServed } from '../helpers/bystander.ts';
import { RawSpdyPeer, sleep } from '../helpers/raw-spdy-peer.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const HTTP_TIMEOUT_MS = 1000;
const INITIAL_WINDOW_SIZE = 7;
/** Bounds on the waits, not timing checks: a stall is caught within 1¼ timeouts. */
const RESET_WAIT_MS = 4 * HTTP_TIMEOUT_MS;

let server: TestServer;
before(async () => {
  server = await startTestServer({ httpTimeoutMs: HTTP_TIMEOUT_MS });
});
after(() => server.close());

for (const alpn of ['spdy/2', 'spdy/3', 'spdy/3.1'] as const) {
  describe(`stalled streams on ${alpn}`, () => {
    it('resets a stream whose window stays at 0 past --http-timeout with RST_STREAM CANCEL, though the client keeps the connection busy', { timeout: 15_000 }, async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      const pinger = setInterval(() => peer.isClosed || peer.write(peer.ping(1)), HTTP_TIMEOUT_MS / 5);
      try {
        // (spdy/2 flow-controls once the client announces a window, as node-spdy does.)
        peer.write(peer.settings([{ id: INITIAL_WINDOW_SIZE, value: 16_384 }]), peer.request(1, '/bytes?n=1000000'));
        await peer.until(() => peer.dataBytes(1) >= 16_384, 3000, 'the first window');
        await assertBystanderServed(server.port, alpn);
        const reset = await peer.nextOfType('RST_STREAM', 1, RESET_WAIT_MS);
        assert.equal(reset.status, RstStatus.CANCEL);
        assert.equal(peer.dataBytes(1), 16_384, 'nothing past the window');
        assert.deepEqual(peer.framesOf('GOAWAY'), [], 'the session goes on');
      } finally {
        clearInterval(pinger);
        peer.close();
      }
    });

    it('closes a quiet session whose only stream is stalled, as idle', { timeout: 15_000 }, async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        peer.write(peer.settings([{ id: INITIAL_WINDOW_SIZE, value: 16_384 }]), peer.request(1, '/bytes?n=1000000'));
        await peer.until(() => peer.dataBytes(1) >= 16_384, 3000, 'the first window');
        const goaway = await peer.nextOfType('GOAWAY', undefined, RESET_WAIT_MS);
        if (alpn !== 'spdy/2') assert.equal(goaway.status, 0 /* OK */);
        await peer.closed(RESET_WAIT_MS);
      } finally {
        peer.close();
      }
    });
  });
}

describe('stalled streams on h2 (node:http2)', () => {
  it('resets a stream whose window stays at 0 past --http-timeout with RST_STREAM CANCEL', { timeout: 15_000 }, async () => {
    const client = http2Connect(`https://127.0.0.1:${server.port}`, { rejectUnauthorized: false, settings: { initialWindowSize: 16_384 } });
    client.on('error', () => {});
    try {
      const stream = client.request({ ':path': '/bytes?n=1000000' });
      stream.on('error', () => {});
      stream.pause(); // read nothing: the window stays shut
      await once(stream, 'response');
      await sleep(10);
      await assertBystanderServed(server.port, 'h2');
      await Promise.race([once(stream, 'close'), sleep(RESET_WAIT_MS).then(() => assert.fail('the stalled stream was not reset'))]);
      assert.equal(stream.rstCode, http2Constants.NGHTTP2_CANCEL);
    } finally {
      client.destroy();
    }
  });

  it('resets it though the client keeps the session busy with a PING every 200 ms', { timeout: 15_000 }, async () => {
    const client = http2Connect(`https://127.0.0.1:${server.port}`, { rejectUnauthorized: false, settings: { initialWindowSize: 16_384 } });
    client.on('error', () => {});
    let pings = 0;
    const pinger = setInterval(() => client.ping(() => pings++), 200);
    try {
      const stream = client.request({ ':path': '/bytes?n=1000000' });
      stream.on('error', () => {});
      stream.pause(); // read nothing: the window stays shut
      await once(stream, 'response');
      await assertBystanderServed(server.port, 'h2');
      await Promise.race([once(stream, 'close'), sleep(RESET_WAIT_MS).then(() => assert.fail(`the stalled stream was not reset (${pings} PINGs answered)`))]);
      assert.equal(stream.rstCode, http2Constants.NGHTTP2_CANCEL);
      assert.ok(pings > 0, 'the server answered the PINGs meanwhile');
      assert.equal(client.closed || client.destroyed, false, 'the session goes on');
    } finally {
      clearInterval(pinger);
      client.destroy();
    }
  });
});
