import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAddress, parseAddress } from '../../src/cli/address.ts';
import { ConfigError } from '../../src/errors.ts';

function rejects(text: string, fragment: string): void {
  assert.throws(
    () => parseAddress('--https2', text, 'addr'),
    (error) => error instanceof ConfigError && error.message === `--https2: addr=${text}: ${fragment}`,
  );
}

describe('parseAddress', () => {
  it('reads host:port', () => {
    assert.deepEqual(parseAddress('--https2', '127.0.0.1:8443'), { kind: 'tcp', host: '127.0.0.1', port: 8443 });
    assert.deepEqual(parseAddress('--https2', 'localhost:80'), { kind: 'tcp', host: 'localhost', port: 80 });
  });

  it('reads :port as all interfaces', () => {
    assert.deepEqual(parseAddress('--https2', ':443'), { kind: 'tcp', host: '0.0.0.0', port: 443 });
  });

  it('reads a bracketed IPv6 host', () => {
    assert.deepEqual(parseAddress('--https2', '[::1]:8443'), { kind: 'tcp', host: '::1', port: 8443 });
  });

  it('accepts ports 0 and 65535', () => {
    assert.deepEqual(parseAddress('--https2', ':0'), { kind: 'tcp', host: '0.0.0.0', port: 0 });
    assert.deepEqual(parseAddress('--https2', ':65535'), { kind: 'tcp', host: '0.0.0.0', port: 65535 });
  });

  it('reads =N as a shared socket reference', () => {
    assert.deepEqual(parseAddress('--https2', '=0'), { kind: 'shared', index: 0 });
    assert.deepEqual(parseAddress('--https2', '=12'), { kind: 'shared', index: 12 });
  });

  it('rejects ports out of range or not decimal', () => {
    for (const text of [':65536', ':99999', ':-1', ':0x10', ':8a', ':', '1.2.3.4:', ':1e3']) {
      rejects(text, 'port must be a number from 0 to 65535');
    }
  });

  it('rejects a bad shared socket reference', () => {
    rejects('=', 'a shared socket is =N, with N a number from 0');
    rejects('=x', 'a shared socket is =N, with N a number from 0');
  });

  it('rejects an unbracketed IPv6 host', () => {
    rejects('::1:80', 'write IPv6 addresses in brackets: [::1]:80');
  });

  it('rejects a bracketed host that is not IPv6', () => {
    rejects('[localhost]:80', '"localhost" is not an IPv6 address');
    rejects('[::1]80', 'expected [ipv6]:port');
  });

  it('rejects a host with characters no host name has', () => {
    rejects('my host:80', '"my host" is not a host name or IPv4 address');
  });

  it('rejects an address with no port', () => {
    rejects('localhost', 'no port (expected host:port, :port, =N, a unix socket path, @name or fd://N)');
    rejects('', 'empty address (expected host:port, :port, =N, a unix socket path, @name or fd://N)');
  });

  it('reads a path with a / as a unix socket, @name as an abstract one, fd://N as an inherited descriptor', () => {
    assert.deepEqual(parseAddress('--http', '/run/spry.sock'), { kind: 'unix', path: '/run/spry.sock' });
    assert.deepEqual(parseAddress('--http', './spry.sock'), { kind: 'unix', path: './spry.sock' });
    assert.deepEqual(parseAddress('--http', '@spry'), { kind: 'unix', path: '\0spry' });
    assert.deepEqual(parseAddress('--http', 'fd://3'), { kind: 'fd', fd: 3 });
    rejects('@', 'an abstract socket needs a name after @');
    rejects('fd://x', 'an inherited socket is fd://N, with N a descriptor number');
  });

  it('quotes the text when there is no key', () => {
    assert.throws(() => parseAddress('--http', ':x'), /^ConfigError: --http: ":x": port must be/);
  });
});

describe('formatAddress', () => {
  it('spells addresses back the way they are written', () => {
    assert.equal(formatAddress({ kind: 'tcp', host: '0.0.0.0', port: 8443 }), '0.0.0.0:8443');
    assert.equal(formatAddress({ kind: 'tcp', host: '::1', port: 8443 }), '[::1]:8443');
    assert.equal(formatAddress({ kind: 'shared', index: 1 }), '=1');
  });
});
