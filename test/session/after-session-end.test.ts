// Once a session has ended its socket (a session error's GOAWAY, the idle timeout, the peer's
// GOAWAY with nothing open), nothing more can be written, so nothing the peer still sends may be
// decoded or answered: no further protocol errors, no PING echoes or RST_STREAMs queued that
// would never go out, no stream handed to the app. Frames in the same chunk as the one that ends
// the session, and in later chunks, are both checked. The server end is a SpdyServerSession over
// plain TCP (the peer half-open, so it can keep writing after the server's FIN).

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DEFAULTS } from '../../src/config/config.ts';
import type { SpdyProtocolError } from '../../src/spdy/protocol-error.ts';
import { SpdyServerSession } from '../../src/spdy/server-session.ts';
import { SPDY_VERSIONS, type SpdyAlpn } from '../../src/spdy/versions.ts';
import { RawSpdyPeer, eventually } from '../helpers/raw-spdy-peer.ts';

const CONNECTION = { remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 2, secure: false };
const IDLE_TIMEOUT_MS = 200;

let tcp: Server;
let port: number;
const accepted: ((socket: Socket) => void)[] = [];
before(async () => {
  tcp = createServer((socket) => accepted.shift()?.(socket));
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  port = (tcp.address() as { port: number }).port;
});
after(() => tcp.close());

interface Pair {
  readonly session: SpdyServerSession;
  readonly serverSocket: Socket;
  readonly peer: RawSpdyPeer;
  /** Every protocolError the session emitted. */
  readonly errors: SpdyProtocolError[];
  /** Streams handed to the app. */
  readonly streams: number[];
}

async function pair(alpn: SpdyAlpn, idleTimeoutMs = 0): Promise<Pair> {
  const serverSocket = new Promise<Socket>((resolve) => accepted.push(resolve));
  const clientSocket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await once(clientSocket, 'connect');
  const socket = await serverSocket;
  const session = new SpdyServerSession(socket, { version: SPDY_VERSIONS[alpn], tuning: DEFAULTS.tuning, idleTimeoutMs, connection: CONNECTION });
  const errors: SpdyProtocolError[] = [];
  const streams: number[] = [];
  session.on('protocolError', (error) => errors.push(error));
  session.on('stream', (stream) => {
    streams.push(stream.id);
    stream.respond(200, [], true);
  });
  return { session, serverSocket: socket, peer: RawSpdyPeer.over(clientSocket, alpn), errors, streams };
}

/** Writes `bytes` and waits until the server's socket has read everything the peer wrote. */
async function deliver(p: Pair, bytes: Buffer): Promise<void> {
  p.peer.write(bytes);
  await eventually(() => p.serverSocket.bytesRead === p.peer.socket.bytesWritten, 3000, 'the server reading every byte written');
}

/** The session answered nothing more, queued nothing more, and reported nothing more. */
function assertNothingAfterEnd(p: Pair, bytesWrittenAtEnd: number, errorsAtEnd: number): void {
  assert.equal(p.errors.length, errorsAtEnd, `protocol errors after the end: ${p.errors.slice(errorsAtEnd).map((e) => e.message).join('; ')}`);
  assert.equal(p.session.owedControlFrames, 0, 'control frames queued after the end');
  assert.equal(p.serverSocket.bytesWritten, bytesWrittenAtEnd, 'bytes written after the end');
  assert.deepEqual(p.streams, [], 'streams handed to the app');
}

for (const alpn of ['spdy/2', 'spdy/3', 'spdy/3.1'] as const) {
  describe(`after a session has ended its socket, on ${alpn}`, () => {
    it('a session error stops decoding: bad frames and PINGs in the same chunk and in later ones get no answer, no queue and no second error', { timeout: 10_000 }, async () => {
      const p = await pair(alpn);
      try {
        const { peer } = p;
        // Stream 3 after 5 is a session error; everything after it in the chunk must go unread (an
        // even id and DATA on a stream never opened would each be a stream error).
        await deliver(p, Buffer.concat([peer.request(5, '/'), peer.request(3, '/'), peer.request(1, '/'), peer.request(6, '/'), peer.data(11, 'x'), peer.ping(1), peer.ping(3), peer.windowUpdate(0, 0)]));
        await peer.nextOfType('GOAWAY');
        assert.deepEqual(p.errors.map((e) => e.code), ['SPRY_ERR_SPDY_BAD_STREAM_ID']);
        const writtenAtEnd = p.serverSocket.bytesWritten;
        await deliver(p, Buffer.concat([peer.request(7, '/'), peer.request(8, '/'), peer.data(13, 'x'), peer.ping(5), peer.ping(7), peer.rst(9, 1), peer.windowUpdate(0, 0)]));
        assertNothingAfterEnd(p, writtenAtEnd, 1);
      } finally {
        p.peer.close();
      }
    });

    it("after the idle timeout's GOAWAY, a request and PINGs get no RST_STREAM, no echo and reach no app", { timeout: 10_000 }, async () => {
      const p = await pair(alpn, IDLE_TIMEOUT_MS);
      try {
        const { peer } = p;
        await peer.nextOfType('GOAWAY');
        await eventually(() => p.serverSocket.writableEnded, 3000, 'the server ending its socket');
        const writtenAtEnd = p.serverSocket.bytesWritten;
        await deliver(p, Buffer.concat([peer.request(1, '/'), peer.ping(1), peer.ping(3)]));
        assertNothingAfterEnd(p, writtenAtEnd, 0);
      } finally {
        p.peer.close();
      }
    });

    it("the peer's GOAWAY on a session with nothing open ends it: a PING and a request behind it in the same chunk are not read", { timeout: 10_000 }, async () => {
      const p = await pair(alpn);
      try {
        const { peer } = p;
        // The server's SETTINGS (and 3.1's WINDOW_UPDATE) went out at once; wait for them to settle.
        await peer.nextOfType('SETTINGS');
        await eventually(() => p.session.owedControlFrames === 0, 3000, 'the initial control frames written');
        const writtenBefore = p.serverSocket.bytesWritten;
        await deliver(p, Buffer.concat([peer.goaway(0), peer.ping(1), peer.request(1, '/')]));
        assert.ok(p.serverSocket.writableEnded, 'the server ended its socket');
        assertNothingAfterEnd(p, writtenBefore, 0);
      } finally {
        p.peer.close();
      }
    });
  });
}
