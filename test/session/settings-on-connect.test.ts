// What the server says first on every SPDY connection: SETTINGS with its stream limit and
// window (docs/spdy-protocol.md §7), and on spdy/3.1 a WINDOW_UPDATE that opens the session window (§6).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawSpdyPeer } from '../helpers/raw-spdy-peer.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { DEFAULTS } from '../../src/config/config.ts';

const MAX_STREAMS = 77;
const WINDOW_BYTES = 123_456;
const SESSION_WINDOW_BYTES = 5 << 20;

let server: TestServer;
before(async () => {
  server = await startTestServer({
    tuning: { maxConcurrentStreams: MAX_STREAMS, initialWindowBytes: WINDOW_BYTES, sessionWindowBytes: SESSION_WINDOW_BYTES },
  });
});
after(() => server.close());

describe('SETTINGS on connect', () => {
  for (const alpn of ['spdy/2', 'spdy/3', 'spdy/3.1'] as const) {
    it(`${alpn}: the first frame is SETTINGS with the configured MAX_CONCURRENT_STREAMS and INITIAL_WINDOW_SIZE`, async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        const settings = await peer.nextOfType('SETTINGS');
        assert.equal(settings.seq, 0, `SETTINGS is not the first frame: ${peer.describe()}`);
        assert.equal(settings.clearSettings, false);
        const values = new Map(settings.entries.map((entry) => [entry.id, entry.value]));
        assert.equal(values.get(4), MAX_STREAMS, 'MAX_CONCURRENT_STREAMS (id 4)');
        assert.equal(values.get(7), WINDOW_BYTES, 'INITIAL_WINDOW_SIZE (id 7)');
        for (const entry of settings.entries) assert.equal(entry.flags, 0, `server entries carry no persistence flags (id ${entry.id})`);
      } finally {
        peer.close();
      }
    });
  }

  it('spdy/2: SETTINGS entry ids are written little-endian on the wire', async () => {
    const peer = await RawSpdyPeer.connect(server.port, 'spdy/2');
    try {
      await peer.nextOfType('SETTINGS');
      // 80 02 00 04 | flags 0, length 20 | 2 entries | id 4 LE, flags 0 | 77 | id 7 LE, flags 0 | 123456
      const golden = Buffer.from('800200040000001400000002' + '04000000' + '0000004d' + '07000000' + '0001e240', 'hex');
      assert.deepEqual(peer.rawPrefix.subarray(0, golden.length).toString('hex'), golden.toString('hex'));
    } finally {
      peer.close();
    }
  });

  it('spdy/3: SETTINGS entry ids are written big-endian on the wire', async () => {
    const peer = await RawSpdyPeer.connect(server.port, 'spdy/3');
    try {
      await peer.nextOfType('SETTINGS');
      const golden = Buffer.from('800300040000001400000002' + '00000004' + '0000004d' + '00000007' + '0001e240', 'hex');
      assert.deepEqual(peer.rawPrefix.subarray(0, golden.length).toString('hex'), golden.toString('hex'));
    } finally {
      peer.close();
    }
  });

  it('spdy/3.1: a WINDOW_UPDATE on stream 0 follows SETTINGS, opening the session window to the configured size', async () => {
    const peer = await RawSpdyPeer.connect(server.port, 'spdy/3.1');
    try {
      const update = await peer.nextOfType('WINDOW_UPDATE');
      assert.equal(update.seq, 1, `the WINDOW_UPDATE is not the second frame: ${peer.describe()}`);
      assert.equal(update.streamId, 0);
      assert.equal(update.delta, SESSION_WINDOW_BYTES - 65_536);
    } finally {
      peer.close();
    }
  });

  for (const alpn of ['spdy/2', 'spdy/3'] as const) {
    it(`${alpn}: no session WINDOW_UPDATE is sent (there is no session window before 3.1)`, async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        // A PING round trip orders everything the server sent on connect before the echo.
        peer.write(peer.ping(1));
        const echo = await peer.nextOfType('PING');
        assert.deepEqual(
          peer.frames.slice(0, echo.seq).map((frame) => frame.type),
          ['SETTINGS'],
        );
      } finally {
        peer.close();
      }
    });
  }

  it('the defaults are announced when nothing is configured', async () => {
    const plain = await startTestServer();
    const peer = await RawSpdyPeer.connect(plain.port, 'spdy/3.1');
    try {
      const settings = await peer.nextOfType('SETTINGS');
      const values = new Map(settings.entries.map((entry) => [entry.id, entry.value]));
      assert.equal(values.get(4), DEFAULTS.tuning.maxConcurrentStreams);
      assert.equal(values.get(7), DEFAULTS.tuning.initialWindowBytes);
      const update = await peer.nextOfType('WINDOW_UPDATE', 0);
      assert.equal(update.delta, DEFAULTS.tuning.sessionWindowBytes - 65_536);
    } finally {
      peer.close();
      await plain.close();
    }
  });
});
