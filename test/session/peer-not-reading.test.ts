// A client that sends PINGs as fast as it can and never reads: every echo is owed to it, and
// nothing it does lets them go. spry must stop reading while its write side is backed up, end
// the session with GOAWAY once more control frames are owed than max-owed-control, and hold a
// bounded amount for it meanwhile, while other connections are served. (Before: 200,000 PINGs
// grew the server by ~70 MB and it never stopped.) h2 is node:http2's, checked the same way.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { encodePing } from '../../src/spdy/frame-encoder.ts';
import { SPDY_VERSIONS } from '../../src/spdy/versions.ts';
import { assertBystanderServed } from '../helpers/bystander.ts';
import { peakResidentBytes, residentBytes } from '../helpers/proc-memory.ts';
import { h2Frame } from '../helpers/raw-h2-peer.ts';
import { RawSpdyPeer } from '../helpers/raw-spdy-peer.ts';
import { startSpry, TEST_APP_ARGS, type SpryProcess } from '../helpers/spry-process.ts';

/** What the server may grow by for the client that never reads (it grew ~70 MB before). */
const MEMORY_BOUND_BYTES = 24 << 20;
/** PINGs written per batch, and at most in all: far past any kernel buffering. */
const BATCH_PINGS = 10_000;
const MAX_PINGS = 3_000_000;
/** How long the whole flood may take before the test fails. */
const FLOOD_WAIT_MS = 30_000;

let spry: SpryProcess;
let port: number;
before(async () => {
  spry = await startSpry(['--https2', 'addr=127.0.0.1:0,spdy=1', ...TEST_APP_ARGS], { env: { ...process.env, SPRY_DEBUG: 'spdy' } });
  port = spry.listener('https').port;
});
after(() => spry.stop());

/**
 * Writes PING batches (with the client's own write backpressure) until `stop()` says so or the
 * connection closes; returns how many were written.
 */
async function flood(socket: Socket, batch: Buffer, stop: () => boolean): Promise<number> {
  let written = 0;
  const deadline = performance.now() + FLOOD_WAIT_MS;
  while (!stop() && !socket.destroyed && written < MAX_PINGS) {
    if (performance.now() > deadline) throw new Error(`still flooding after ${FLOOD_WAIT_MS} ms (${written} PINGs)`);
    written += BATCH_PINGS;
    if (!socket.write(batch)) {
      // (An error means the server closed the connection: the loop ends on `destroyed`.)
      await Promise.race([once(socket, 'drain'), once(socket, 'close'), new Promise((resolve) => setTimeout(resolve, 200))]).catch(() => {});
    }
  }
  return written;
}

for (const alpn of ['spdy/2', 'spdy/3', 'spdy/3.1'] as const) {
  describe(`a client that never reads, on ${alpn}`, () => {
    it('gets GOAWAY once max-owed-control echoes are owed, and the server grows by less than 24 MiB meanwhile', { timeout: 60_000 }, async () => {
      const pid = spry.child.pid!;
      const before = residentBytes(pid);
      const stderrBefore = spry.stderr().length;
      const peer = await RawSpdyPeer.connect(port, alpn);
      try {
        peer.socket.pause(); // never read
        const ping = encodePing(SPDY_VERSIONS[alpn], 1);
        const batch = Buffer.concat(Array.from({ length: BATCH_PINGS }, () => ping));
        const givenUp = (): boolean => spry.stderr().slice(stderrBefore).includes('SPRY_ERR_SPDY_PEER_NOT_READING');
        const written = await flood(peer.socket, batch, givenUp);
        assert.ok(givenUp(), `the server never gave up on the client (${written} PINGs written)`);
        const grown = peakResidentBytes(pid) - before;
        console.log(`${alpn}: ${written} PINGs written, the server grew by ${grown} bytes at its peak`);
        assert.ok(grown < MEMORY_BOUND_BYTES, `the server grew by ${grown} bytes`);
        // Now read: what the server sent ends with its GOAWAY (within its close grace).
        peer.socket.resume();
        const goaway = await peer.nextOfType('GOAWAY', undefined, 5000);
        if (alpn !== 'spdy/2') assert.equal(goaway.status, 2 /* INTERNAL_ERROR */);
        await peer.closed(5000);
        await assertBystanderServed(port, alpn);
      } finally {
        peer.close();
      }
    });
  });
}

describe('a client that never reads, on h2 (node:http2)', () => {
  it('is closed by the server before it grows by 24 MiB', { timeout: 60_000 }, async () => {
    const pid = spry.child.pid!;
    const before = residentBytes(pid);
    const socket = tlsConnect({ host: '127.0.0.1', port, ALPNProtocols: ['h2'], rejectUnauthorized: false });
    socket.on('error', () => {});
    await once(socket, 'secureConnect');
    assert.equal(socket.alpnProtocol, 'h2');
    try {
      socket.pause();
      socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), h2Frame(4, 0, 0, Buffer.alloc(0))]));
      const ping = h2Frame(6, 0, 0, Buffer.alloc(8));
      const batch = Buffer.concat(Array.from({ length: BATCH_PINGS }, () => ping));
      const written = await flood(socket, batch, () => false);
      assert.ok(socket.destroyed, `the server never closed the connection (${written} PINGs written)`);
      const grown = peakResidentBytes(pid) - before;
      console.log(`h2: ${written} PINGs written, the server grew by ${grown} bytes at its peak`);
      assert.ok(grown < MEMORY_BOUND_BYTES, `the server grew by ${grown} bytes`);
      await assertBystanderServed(port, 'h2');
    } finally {
      socket.destroy();
    }
  });
});
