// What an HTTP backend behind --http-to learns of the client: Forwarded (RFC 7239) and
// X-Forwarded-Host beside X-Forwarded-For and X-Forwarded-Proto, added to what came before.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { forwardedElement } from '../../src/upstream/backend-requests.ts';
import { connectClient } from '../helpers/protocol-clients.ts';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';

describe('forwarding headers to an HTTP backend', () => {
  let backend: Server;
  let spry: SpryProcess;
  let seen: IncomingHttpHeaders | undefined;

  before(async () => {
    backend = createServer((req, res) => {
      seen = req.headers;
      res.end('ok');
    }).listen(0, '127.0.0.1');
    await once(backend, 'listening');
    spry = await startSpry(['--https2', 'addr=127.0.0.1:0,spdy=1', '--http-to', `http://127.0.0.1:${(backend.address() as { port: number }).port}`]);
  });
  after(async () => {
    await spry?.stop();
    backend?.close();
  });

  it('sends Forwarded and X-Forwarded-Host over h2, appending to a Forwarded the client sent', async () => {
    const client = await connectClient('h2', spry.listener('https'));
    try {
      await client.request({ path: '/x', headers: [['forwarded', 'for=192.0.2.60;proto=http']] });
    } finally {
      await client.close();
    }
    const authority = `127.0.0.1:${spry.listener('https').port}`;
    assert.equal(seen?.['x-forwarded-host'], authority);
    assert.equal(seen?.forwarded, `for=192.0.2.60;proto=http, for=127.0.0.1;host="${authority}";proto=https`);
    assert.equal(seen?.['x-forwarded-proto'], 'https');
  });

  it('quotes an IPv6 node and a host that is not a token', () => {
    assert.equal(forwardedElement('::1', 'example.com', 'https'), 'for="[::1]";host=example.com;proto=https');
    assert.equal(forwardedElement('10.0.0.1', '[::1]:8443', 'http'), 'for=10.0.0.1;host="[::1]:8443";proto=http');
  });
});
