// The ALPN list a --https2 listener offers, and what a client that offers h2 gets when h2=0.

import assert from 'node:assert/strict';
import { connect } from 'node:tls';
import { after, describe, it } from 'node:test';
import { alpnProtocols } from '../../src/listen/alpn.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('ALPN on --https2', () => {
  it('offers h2, then SPDY newest first with spdy=1, then http/1.1', () => {
    assert.deepEqual(alpnProtocols({ h2: true, spdy: true }), ['h2', 'spdy/3.1', 'spdy/3', 'spdy/2', 'http/1.1']);
  });

  it('leaves SPDY out without spdy=1, as uWSGI does, and h2 out with h2=0', () => {
    assert.deepEqual(alpnProtocols({ h2: true, spdy: false }), ['h2', 'http/1.1']);
    assert.deepEqual(alpnProtocols({ h2: false, spdy: true }), ['spdy/3.1', 'spdy/3', 'spdy/2', 'http/1.1']);
    assert.deepEqual(alpnProtocols({ h2: false, spdy: false }), ['http/1.1']);
  });

  const servers: TestServer[] = [];
  after(() => Promise.all(servers.map((server) => server.close())));

  for (const [label, spdy, h2, offered, expected] of [
    ['spdy=1: a client offering h2 and spdy/3.1 gets h2', true, true, ['h2', 'spdy/3.1', 'http/1.1'], 'h2'],
    ['spdy=1,h2=0: a client offering h2 and spdy/3.1 gets spdy/3.1', true, false, ['h2', 'spdy/3.1', 'http/1.1'], 'spdy/3.1'],
    ['spdy=0: a client offering only SPDY and http/1.1 gets http/1.1', false, true, ['spdy/3.1', 'spdy/3', 'http/1.1'], 'http/1.1'],
  ] as const) {
    it(`negotiates on a real socket — ${label}`, async () => {
      const server = await startTestServer({ spdy, h2 });
      servers.push(server);
      const socket = connect({ host: '127.0.0.1', port: server.port, ALPNProtocols: [...offered], rejectUnauthorized: false });
      await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      assert.equal(socket.alpnProtocol, expected);
      socket.destroy();
    });
  }
});
