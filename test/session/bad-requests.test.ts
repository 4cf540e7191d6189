// A SYN_STREAM that is well-formed SPDY but not a complete HTTP request (docs/spdy-protocol.md §4.2, §12): missing
// method or path is an HTTP 400 response on that stream — a SYN_REPLY, not a reset.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawSpdyPeer, header, patternBytes } from '../helpers/raw-spdy-peer.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

/** The request headers of `peer`'s version without the reserved header `drop`. */
function without(peer: RawSpdyPeer, drop: 'method' | 'path'): string[] {
  const name = peer.version.headers[drop];
  const headers = peer.requestHeaders('/bytes?n=10');
  const at = headers.indexOf(name);
  assert.ok(at >= 0 && at % 2 === 0);
  headers.splice(at, 2);
  return headers;
}

for (const alpn of ['spdy/2', 'spdy/3', 'spdy/3.1'] as const) {
  describe(`incomplete requests on ${alpn}`, () => {
    for (const drop of ['path', 'method'] as const) {
      it(`a SYN_STREAM without ${drop === 'path' ? (alpn === 'spdy/2' ? 'url' : ':path') : alpn === 'spdy/2' ? 'method' : ':method'} gets an HTTP 400 response, not a reset`, async () => {
        const peer = await RawSpdyPeer.connect(server.port, alpn);
        try {
          peer.write(peer.synStream(1, without(peer, drop), { fin: true }));
          const response = await peer.response(1);
          assert.equal(response.status, 400);
          assert.match(header(response.headers, peer.version.headers.status) ?? '', /^400( |$)/);
          assert.equal(header(response.headers, peer.version.headers.version), 'HTTP/1.1');
          assert.match(response.body.toString(), new RegExp(`missing ${peer.version.headers[drop]}`));
          assert.deepEqual(peer.framesOf('RST_STREAM'), []);
          assert.deepEqual(peer.framesOf('GOAWAY'), []);

          peer.write(peer.request(3, '/bytes?n=10'));
          const next = await peer.response(3);
          assert.equal(next.status, 200);
          assert.ok(next.body.equals(patternBytes(10)));
        } finally {
          peer.close();
        }
      });
    }
  });
}
