// The tuning options as a user gives them, to a real spry process: each global option sets what
// every listener starts from, the --https2 key of the same name overrides it on its listener
// only. Checked where a client sees them: the SETTINGS (and spdy/3.1's session WINDOW_UPDATE) a
// raw SPDY peer and an h2 client receive on connect, and the limits a request meets.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RawSpdyPeer } from '../helpers/raw-spdy-peer.ts';
import { startSpry, TEST_APP_ARGS, type SpryListenerInfo, type SpryProcess } from '../helpers/spry-process.ts';
import { xorshiftBytes } from '../helpers/xorshift-bytes.ts';
import { DEFAULTS } from '../../src/config/config.ts';
import { RstStatus } from '../../src/spdy/constants.ts';
import type { FlatHeaders } from '../../src/spdy/header-block.ts';
import type { SpdyAlpn } from '../../src/spdy/versions.ts';
import {
  h2Outcome,
  h2RemoteSettings,
  manyHeaders,
  SETTINGS_INITIAL_WINDOW_SIZE,
  SETTINGS_MAX_CONCURRENT_STREAMS,
  SPDY_DEFAULT_SESSION_WINDOW_BYTES,
  spdyGreeting,
  spdyOutcome,
} from './probes.ts';

const SPDY_VERSIONS: readonly SpdyAlpn[] = ['spdy/3.1', 'spdy/3', 'spdy/2'];
/** RFC 9113 §7: what node:http2 resets a stream with when its headers break a local limit. */
const H2_ENHANCE_YOUR_CALM = 11;

/** Every tuning knob, as the global options give them (none is a default). */
const GLOBAL = {
  'spdy-max-streams': 77,
  'spdy-window': 200_000,
  'spdy-session-window': 4 << 20,
  'spdy-max-frame': 8192,
  'spdy-max-headers': 16_384,
  'spdy-max-header-count': 16,
  'spdy-max-data-frame': 4096,
  'write-buffer': 32_768,
  'read-buffer': 32_768,
} as const;

/** The same knobs as the second listener's own --https2 keys (again none is a default or a global). */
const OWN = {
  'spdy-max-streams': 33,
  'spdy-window': 300_000,
  'spdy-session-window': 8 << 20,
  'spdy-max-frame': 32_768,
  'spdy-max-headers': 131_072,
  'spdy-max-header-count': 64,
  'spdy-max-data-frame': 2048,
  'write-buffer': 131_072,
  'read-buffer': 131_072,
} as const satisfies Record<keyof typeof GLOBAL, number>;

type Knobs = Record<keyof typeof GLOBAL, number>;

/** Header values this long fit every version's length fields (spdy/2's are 16-bit). */
const HEADER_VALUE_BYTES = 30_000;

/**
 * `total` bytes of header values as `x-big0`, `x-big1`, …: random base64 (deflate saves only about
 * a quarter of it), or 'a' repeated (deflate makes it almost nothing).
 */
function bigHeaders(total: number, fill: 'random' | 'repeated'): FlatHeaders {
  const text = fill === 'random' ? xorshiftBytes(4 * Math.ceil(total / 4), total).toString('base64').slice(0, total) : 'a'.repeat(total);
  const headers: FlatHeaders = [];
  for (let i = 0; i * HEADER_VALUE_BYTES < total; i++) headers.push(`x-big${i}`, text.slice(i * HEADER_VALUE_BYTES, (i + 1) * HEADER_VALUE_BYTES));
  return headers;
}

describe('every tuning option on the command line, global and per listener', () => {
  let spry: SpryProcess;
  /** Listener 0 has no keys of its own (the globals); listener 1 sets every knob itself (OWN); listener 2 is --http. */
  const cases: { name: string; index: number; knobs: Knobs }[] = [
    { name: 'the listener without keys (global options)', index: 0, knobs: GLOBAL },
    { name: 'the listener with its own keys', index: 1, knobs: OWN },
  ];
  const listener = (index: number): SpryListenerInfo => spry.listeners[index];

  before(async () => {
    const globals = Object.entries(GLOBAL).flatMap(([name, value]) => [`--${name}`, String(value)]);
    const own = Object.entries(OWN).map(([name, value]) => `${name}=${value}`).join(',');
    spry = await startSpry([
      ...globals,
      '--https2', 'addr=127.0.0.1:0,spdy=1',
      '--https2', `addr=127.0.0.1:0,spdy=1,${own}`,
      '--http', '127.0.0.1:0',
      ...TEST_APP_ARGS,
    ]);
    assert.deepEqual(spry.listeners.map((l) => l.scheme), ['https', 'https', 'http']);
  });
  after(() => spry.stop());

  for (const { name, index, knobs } of cases) {
    describe(name, () => {
      for (const alpn of SPDY_VERSIONS) {
        it(`${alpn}: SETTINGS carries spdy-max-streams as MAX_CONCURRENT_STREAMS and spdy-window as INITIAL_WINDOW_SIZE`, async () => {
          const { settings } = await spdyGreeting(listener(index).port, alpn);
          assert.equal(settings.get(SETTINGS_MAX_CONCURRENT_STREAMS), knobs['spdy-max-streams']);
          assert.equal(settings.get(SETTINGS_INITIAL_WINDOW_SIZE), knobs['spdy-window']);
        });
      }

      it('spdy/3.1: the WINDOW_UPDATE on stream 0 raises the session window to spdy-session-window', async () => {
        const { sessionWindowDelta } = await spdyGreeting(listener(index).port, 'spdy/3.1');
        assert.equal(sessionWindowDelta, knobs['spdy-session-window'] - SPDY_DEFAULT_SESSION_WINDOW_BYTES);
      });

      it('h2: SETTINGS carries spdy-max-streams, spdy-window and spdy-max-headers', async () => {
        const settings = await h2RemoteSettings(listener(index).origin);
        assert.equal(settings.maxConcurrentStreams, knobs['spdy-max-streams']);
        assert.equal(settings.initialWindowSize, knobs['spdy-window']);
        assert.equal(settings.maxHeaderListSize, knobs['spdy-max-headers']);
      });

      it('spdy-max-data-frame: no DATA frame of a 32 KiB response is larger, and the first is that large', async () => {
        const peer = await RawSpdyPeer.connect(listener(index).port, 'spdy/3.1');
        try {
          peer.write(peer.request(1, '/bytes?n=32768'));
          const response = await peer.response(1);
          assert.equal(response.body.length, 32_768);
          const sizes = peer.framesOf('DATA', 1).map((frame) => frame.data.length).filter((size) => size > 0);
          assert.equal(Math.max(...sizes), knobs['spdy-max-data-frame'], `DATA sizes ${sizes.join(', ')}`);
          assert.equal(sizes[0], knobs['spdy-max-data-frame']);
        } finally {
          peer.close();
        }
      });

      for (const alpn of ['spdy/3.1', 'spdy/2'] as const) {
        it(`${alpn}: spdy-max-header-count: a block with more pairs gets RST_STREAM, one with fewer is served`, async () => {
          const limit = knobs['spdy-max-header-count'];
          // The request's own five reserved headers count too: limit + 1 pairs, then exactly limit.
          const over = manyHeaders(limit - 4).flat;
          const under = manyHeaders(limit - 5).flat;
          const status = alpn === 'spdy/2' ? RstStatus.PROTOCOL_ERROR : RstStatus.FRAME_TOO_LARGE;
          assert.deepEqual(await spdyOutcome(listener(index).port, alpn, '/bytes?n=1', over), { rstCode: status });
          assert.deepEqual(await spdyOutcome(listener(index).port, alpn, '/bytes?n=1', under), { status: 200 });
        });

        it(`${alpn}: spdy-max-headers: an inflated header block over it gets GOAWAY, one under it is served`, async () => {
          const limit = knobs['spdy-max-headers'];
          // 'a' × n compresses to almost nothing, so only the inflated size is near a limit.
          assert.deepEqual(await spdyOutcome(listener(index).port, alpn, '/bytes?n=1', bigHeaders(limit + 100, 'repeated')), { goaway: true });
          assert.deepEqual(await spdyOutcome(listener(index).port, alpn, '/bytes?n=1', bigHeaders(limit - 1000, 'repeated')), { status: 200 });
        });

        it(`${alpn}: spdy-max-frame: a SYN_STREAM longer than it gets GOAWAY, a shorter one is served`, async () => {
          const limit = knobs['spdy-max-frame'];
          // Base64 deflates to about 3/4 of its length: these frames are about 1.4× and 0.6× the limit,
          // and inflate to well under spdy-max-headers.
          assert.deepEqual(await spdyOutcome(listener(index).port, alpn, '/bytes?n=1', bigHeaders(Math.round(limit * 1.9), 'random')), { goaway: true });
          assert.deepEqual(await spdyOutcome(listener(index).port, alpn, '/bytes?n=1', bigHeaders(Math.round(limit * 0.8), 'random')), { status: 200 });
        });
      }

      it('h2: spdy-max-header-count bounds the header pairs of a request', async () => {
        const limit = knobs['spdy-max-header-count'];
        // The four pseudo-headers (:method, :path, :scheme, :authority) count as pairs too, as
        // SPDY's reserved headers do: limit + 1 pairs, then exactly limit.
        assert.deepEqual(await h2Outcome(listener(index).origin, '/bytes?n=1', manyHeaders(limit - 3).object), { rstCode: H2_ENHANCE_YOUR_CALM });
        assert.deepEqual(await h2Outcome(listener(index).origin, '/bytes?n=1', manyHeaders(limit - 4).object), { status: 200 });
      });
    });
  }

  it('--http (h2c) takes the global options', async () => {
    const settings = await h2RemoteSettings(listener(2).origin);
    assert.equal(settings.maxConcurrentStreams, GLOBAL['spdy-max-streams']);
    assert.equal(settings.initialWindowSize, GLOBAL['spdy-window']);
    assert.equal(settings.maxHeaderListSize, GLOBAL['spdy-max-headers']);
  });
});

describe('a tuning option from --ini, the command line and a key', () => {
  let dir: string;
  let spry: SpryProcess;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spry-tuning-'));
    const ini = join(dir, 'spry.ini');
    await writeFile(ini, '[spry]\nspdy-window = 250000\nspdy-max-streams = 55\n');
    spry = await startSpry([
      '--ini', ini,
      '--spdy-max-streams', '66', // the command line wins over the file
      '--https2', 'addr=127.0.0.1:0,spdy=1',
      '--https2', 'addr=127.0.0.1:0,spdy=1,spdy-window=300000',
      ...TEST_APP_ARGS,
    ]);
  });
  after(async () => {
    await spry.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('the file\'s spdy-window applies where no key overrides it; the key wins on its listener; the command line\'s spdy-max-streams beats the file\'s', async () => {
    const [first, second] = spry.listeners;
    for (const [info, window] of [[first, 250_000], [second, 300_000]] as const) {
      const { settings, sessionWindowDelta } = await spdyGreeting(info.port, 'spdy/3.1');
      assert.equal(settings.get(SETTINGS_INITIAL_WINDOW_SIZE), window);
      assert.equal(settings.get(SETTINGS_MAX_CONCURRENT_STREAMS), 66);
      // Not given anywhere: the default.
      assert.equal(sessionWindowDelta, DEFAULTS.tuning.sessionWindowBytes - SPDY_DEFAULT_SESSION_WINDOW_BYTES);
      const h2 = await h2RemoteSettings(info.origin);
      assert.equal(h2.initialWindowSize, window);
      assert.equal(h2.maxConcurrentStreams, 66);
      assert.equal(h2.maxHeaderListSize, DEFAULTS.tuning.maxHeaderBlockBytes);
    }
  });
});
