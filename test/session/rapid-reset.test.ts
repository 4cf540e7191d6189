// Rapid reset (the CVE-2023-44487 shape): a client opens streams and resets each at once, which
// costs it nothing and used to cost spry ~35 µs a stream without end. Past max-peer-resets
// (1000 per abuse window by default) the session ends with GOAWAY; the streams reset in the
// chunk that opened them never reach the app, and nothing is framed for any reset stream.
// h2 is node:http2's mitigation, with the same budget (streamResetBurst); there too a stream
// reset in the read that opened it never reaches the app.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as http2Connect, constants as http2Constants } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { DEFAULTS } from '../../src/config/config.ts';
import { RstStatus } from '../../src/spdy/constants.ts';
import { testApp } from '../../examples/testapp.ts';
import { assertBystanderServed } from '../helpers/bystander.ts';
import { RawH2Peer } from '../helpers/raw-h2-peer.ts';
import { RawSpdyPeer } from '../helpers/raw-spdy-peer.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const BUDGET = DEFAULTS.tuning.maxPeerResets;
/** Three budgets' worth: far more than the server may take. */
const PAIRS = 3 * BUDGET;
const PAIRS_PER_WRITE = 100;

let served = 0;
let server: TestServer;
before(async () => {
  server = await startTestServer({
    app: (req: IncomingMessage, res: ServerResponse) => {
      served++;
      testApp(req, res);
    },
  });
});
after(() => server.close());

for (const alpn of ['spdy/2', 'spdy/3', 'spdy/3.1'] as const) {
  describe(`rapid reset on ${alpn}`, () => {
    it(`gets GOAWAY once more than ${BUDGET} streams were reset before their response, and frames nothing for them`, { timeout: 30_000 }, async () => {
      served = 0;
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        for (let first = 0; first < PAIRS && !peer.isClosed; first += PAIRS_PER_WRITE) {
          const frames: Buffer[] = [];
          for (let i = first; i < first + PAIRS_PER_WRITE; i++) {
            const id = 2 * i + 1;
            frames.push(peer.request(id, '/headers.json'), peer.rst(id, RstStatus.CANCEL));
          }
          peer.write(...frames);
          await new Promise((resolve) => setImmediate(resolve));
        }
        const goaway = await peer.nextOfType('GOAWAY', undefined, 10_000);
        // The stream whose reset spent the budget is the last one the server took.
        assert.ok(goaway.lastGoodStreamId <= 2 * (BUDGET + 1) - 1, `last good stream ${goaway.lastGoodStreamId}`);
        assert.ok(goaway.lastGoodStreamId >= 2 * BUDGET - 1, `GOAWAY before the budget was spent: last good stream ${goaway.lastGoodStreamId}`);
        await peer.closed(5000);
        assert.deepEqual(peer.framesOf('SYN_REPLY'), [], 'a reply was framed for a reset stream');
        assert.deepEqual(peer.framesOf('DATA'), []);
        assert.ok(served < BUDGET, `the app was handed ${served} of the reset streams`);
        await assertBystanderServed(server.port, alpn);
      } finally {
        peer.close();
      }
    });
  });
}

describe('rapid reset on h2 (node:http2)', () => {
  it('never hands the app a stream reset in the read that opened it', { timeout: 30_000 }, async () => {
    served = 0;
    const peer = await RawH2Peer.connect(server.port);
    try {
      const fields = [[':method', 'GET'], [':scheme', 'https'], [':authority', 'localhost'], [':path', '/headers.json']] as const;
      const reset = Array.from({ length: 200 }, (_, i) => 2 * i + 1);
      peer.requestAndReset(reset, fields);
      // Frames are handled in order: once this one is answered, every reset before it was seen.
      peer.request(401, fields);
      assert.deepEqual(await peer.outcome(401, 10_000), { kind: 'response' });
      assert.equal(served, 1, `the app was handed ${served - 1} of the 200 reset streams`);
      await assertBystanderServed(server.port, 'h2');
    } finally {
      peer.close();
    }
  });

  // A budget far below nghttp2's own default burst (1000), so only max-peer-resets can stop it.
  const H2_BUDGET = 100;
  let small: TestServer;
  before(async () => {
    small = await startTestServer({ tuning: { maxPeerResets: H2_BUDGET } });
  });
  after(() => small.close());

  it(`gets GOAWAY once more than max-peer-resets (${H2_BUDGET}) streams were reset`, { timeout: 30_000 }, async () => {
    const client = http2Connect(`https://127.0.0.1:${small.port}`, { rejectUnauthorized: false, peerMaxConcurrentStreams: 10_000 });
    client.on('error', () => {});
    const goaway = once(client, 'goaway');
    try {
      await once(client, 'connect');
      let opened = 0;
      for (; opened < 4 * H2_BUDGET && !client.closed && !client.destroyed; opened++) {
        try {
          const stream = client.request({ ':path': '/headers.json' });
          stream.on('error', () => {});
          stream.close(http2Constants.NGHTTP2_CANCEL);
        } catch {
          break; // the session is going away
        }
        if (opened % PAIRS_PER_WRITE === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      const [code] = (await goaway) as [number];
      // nghttp2 ends a session past its RST_STREAM rate with INTERNAL_ERROR, as spry's SPDY does.
      assert.equal(code, http2Constants.NGHTTP2_INTERNAL_ERROR);
      await assertBystanderServed(small.port, 'h2');
    } finally {
      client.destroy();
    }
  });
});
