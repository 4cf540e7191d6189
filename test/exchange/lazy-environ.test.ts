// The environment a fetch-style handler gets is built on first use; whatever the handler does
// with it, it must see exactly the object buildEnviron would have given.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildEnviron, lazyEnviron } from '../../src/exchange/environ.ts';
import type { RequestHead } from '../../src/exchange/exchange.ts';

const HEAD: RequestHead = {
  method: 'POST',
  target: '/a%20b/c?x=1&y=2',
  authority: 'example.com:8443',
  scheme: 'https',
  httpVersion: '1.1',
  headers: ['content-type', 'text/plain', 'content-length', '5', 'x-custom', 'yes'],
  connection: { remoteAddress: '192.0.2.7', remotePort: 40_000, localAddress: '127.0.0.1', localPort: 8443, secure: true },
  protocol: { kind: 'spdy', version: '3.1', streamId: 5 },
  hasBody: true,
};

describe('lazyEnviron', () => {
  it('reads, lists, spreads and serialises as buildEnviron\'s object', () => {
    const expected = buildEnviron(HEAD);
    assert.equal(lazyEnviron(HEAD).PATH_INFO, expected.PATH_INFO);
    assert.equal(lazyEnviron(HEAD)['SPDY.stream'], '5');
    assert.deepEqual(Object.keys(lazyEnviron(HEAD)), Object.keys(expected));
    assert.deepEqual({ ...lazyEnviron(HEAD) }, expected);
    assert.equal(JSON.stringify(lazyEnviron(HEAD)), JSON.stringify(expected));
    assert.equal('HTTP_X_CUSTOM' in lazyEnviron(HEAD), true);
    assert.equal('HTTP_NOPE' in lazyEnviron(HEAD), false);
  });

  it('takes writes and deletes like a plain object, after building', () => {
    const env = lazyEnviron(HEAD);
    env.EXTRA = 'added';
    delete env.QUERY_STRING;
    assert.equal(env.EXTRA, 'added');
    assert.equal(env.QUERY_STRING, undefined);
    assert.equal(env.REQUEST_METHOD, 'POST', 'the rest was built before the write');
    assert.deepEqual(Object.keys(env).sort(), [...Object.keys(buildEnviron(HEAD)).filter((key) => key !== 'QUERY_STRING'), 'EXTRA'].sort());
  });
});
