// Two spdy/3.1 flow-control cases around streams the windows hold: only DATA is flow-controlled
// (SPDY/3 §2.6.8), so a reply head, HEADERS or an empty FIN never waits for the session window; and a
// stream whose response is done but whose upload is open still has a window that can overflow.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RstStatus } from '../../src/spdy/constants.ts';
import { RawSpdyPeer, patternBytes, sleep } from '../helpers/raw-spdy-peer.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { assertBystanderServed } from '../helpers/bystander.ts';

const INITIAL_WINDOW_SIZE = 7;
/** Long enough for a server that ignores the window to have sent more. */
const QUIET_MS = 300;

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

describe('the spdy/3.1 session window holds only DATA', () => {
  it('sends the replies of other streams while a download has used up the session window, and their bodies once it reopens', async () => {
    const peer = await RawSpdyPeer.connect(server.port, 'spdy/3.1');
    try {
      peer.write(peer.settings([{ id: INITIAL_WINDOW_SIZE, value: 16 << 20 }]), peer.request(1, '/bytes?n=200000'));
      await peer.until(() => peer.dataBytes(1) >= 65_536, 3000, 'the first 65536 bytes');
      // The session window is 0 now. A 204 (SYN_REPLY with FIN) and a JSON reply must not wait.
      peer.write(peer.request(3, '/status/204'), peer.request(5, '/headers.json'));
      const noContent = await peer.nextOfType('SYN_REPLY', 3);
      assert.equal(noContent.fin, true);
      const json = await peer.nextOfType('SYN_REPLY', 5);
      assert.equal(json.fin, false);
      await assertBystanderServed(server.port, 'spdy/3.1');
      await sleep(QUIET_MS);
      assert.equal(peer.dataBytes(), 65_536, `DATA past the session window: ${peer.describe(8)}`);

      peer.write(peer.windowUpdate(0, 1 << 20));
      await peer.nextFrame((frame) => frame.type === 'DATA' && frame.streamId === 5 && frame.fin, 3000, 'FIN on stream 5');
      assert.ok(JSON.parse(peer.body(5).toString()), 'the JSON body arrived whole');
      await peer.nextFrame((frame) => frame.type === 'DATA' && frame.streamId === 1 && frame.fin, 3000, 'FIN on stream 1');
      assert.ok(peer.body(1).equals(patternBytes(200_000)));
      assert.deepEqual(peer.framesOf('RST_STREAM'), []);
    } finally {
      peer.close();
    }
  });
});

for (const alpn of ['spdy/3', 'spdy/3.1'] as const) {
  describe(`a half-closed stream's window on ${alpn}`, () => {
    it('answers a WINDOW_UPDATE that overflows the window of a stream whose response is done, upload still open, with RST_STREAM FLOW_CONTROL_ERROR', async () => {
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        // A GET without FIN: the app answers at once, and the upload side stays open.
        peer.write(peer.request(1, '/status/204', { fin: false }));
        const reply = await peer.nextOfType('SYN_REPLY', 1);
        assert.equal(reply.fin, true);
        peer.write(peer.windowUpdate(1, 0x7fff_ffff));
        const reset = await peer.nextOfType('RST_STREAM', 1);
        assert.equal(reset.status, RstStatus.FLOW_CONTROL_ERROR);
        await assertBystanderServed(server.port, alpn);
        assert.deepEqual(peer.framesOf('GOAWAY'), []);
      } finally {
        peer.close();
      }
    });
  });
}
