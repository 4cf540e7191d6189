// The uncompressed name/value block (docs/spdy-protocol.md §4): 16-bit counts
// and lengths in v2, 32-bit in v3, against hand-written bytes; then every invalid case of docs/spdy-protocol.md §17.1,
// each a stream error (RST_STREAM PROTOCOL_ERROR) or a session error (GOAWAY) as the notes rule.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeHeaderBlock, encodeHeaderBlock } from '../../src/spdy/header-block.ts';
import { SpdySessionError, SpdyStreamError } from '../../src/spdy/protocol-error.ts';
import type { SpdyVersion } from '../../src/spdy/versions.ts';
import { ALL_VERSIONS, V2, V3, V31, V3_FAMILY, hex } from './harness.ts';

const LIMITS = { maxHeaderCount: 100 };
const STREAM_ID = 5;
const PROTOCOL_ERROR = 1;
const FRAME_TOO_LARGE = 11;

/** Hex of an ASCII/latin1 string, so hand-written blocks stay readable. */
function ascii(text: string): string {
  return Buffer.from(text, 'latin1').toString('hex');
}

/** A length field of the version's width, in hex. */
function len(version: SpdyVersion, n: number): string {
  return (n >>> 0).toString(16).padStart(version.nvLengthBytes * 2, '0');
}

/** A block from a declared count and raw name/value byte strings (latin1), written field by field. */
function block(version: SpdyVersion, count: number, pairs: readonly (readonly [string, string])[], trailing = ''): Buffer {
  const parts = [len(version, count)];
  for (const [name, value] of pairs) parts.push(len(version, name.length), ascii(name), len(version, value.length), ascii(value));
  parts.push(trailing);
  return hex(parts.join(''));
}

function decode(version: SpdyVersion, bytes: Buffer, limits = LIMITS): string[] {
  return decodeHeaderBlock(version, bytes, STREAM_ID, limits);
}

function failsStream(version: SpdyVersion, bytes: Buffer, status = PROTOCOL_ERROR, code = 'SPRY_ERR_SPDY_BAD_HEADER_BLOCK', limits = LIMITS): void {
  assert.throws(
    () => decode(version, bytes, limits),
    (error: unknown) => {
      assert.ok(error instanceof SpdyStreamError, `expected a SpdyStreamError, got ${String(error)}`);
      assert.equal(error.scope, 'stream');
      assert.equal(error.streamId, STREAM_ID);
      assert.equal(error.status, status);
      assert.equal(error.code, code);
      return true;
    },
  );
}

function failsSession(version: SpdyVersion, bytes: Buffer): void {
  assert.throws(
    () => decode(version, bytes),
    (error: unknown) => {
      assert.ok(error instanceof SpdySessionError, `expected a SpdySessionError, got ${String(error)}`);
      assert.equal(error.scope, 'session');
      assert.equal(error.status, PROTOCOL_ERROR);
      assert.equal(error.code, 'SPRY_ERR_SPDY_BAD_HEADER_BLOCK');
      return true;
    },
  );
}

const V2_METHOD_GET = '00 01 00 06 6d 65 74 68 6f 64 00 03 47 45 54';
const V3_METHOD_GET = '00 00 00 01 00 00 00 07 3a 6d 65 74 68 6f 64 00 00 00 03 47 45 54';

describe('header blocks: hand-written bytes', () => {
  test('encodes the docs/spdy-protocol.md §4.1 v2 example {"method":"GET"} with 16-bit lengths', () => {
    assert.equal(encodeHeaderBlock(V2, ['method', 'GET']).toString('hex'), hex(V2_METHOD_GET).toString('hex'));
  });

  test('encodes the docs/spdy-protocol.md §4.1 v3 example {":method":"GET"} with 32-bit lengths', () => {
    for (const version of V3_FAMILY) assert.equal(encodeHeaderBlock(version, [':method', 'GET']).toString('hex'), hex(V3_METHOD_GET).toString('hex'));
  });

  test('decodes the docs/spdy-protocol.md §4.1 examples', () => {
    assert.deepEqual(decode(V2, hex(V2_METHOD_GET)), ['method', 'GET']);
    for (const version of V3_FAMILY) assert.deepEqual(decode(version, hex(V3_METHOD_GET)), [':method', 'GET']);
  });

  test('encodes and decodes a v2 request block of three pairs, in order', () => {
    const bytes = hex(`00 03 | 00 06 ${ascii('method')} 00 03 ${ascii('GET')} | 00 03 ${ascii('url')} 00 01 ${ascii('/')} | 00 07 ${ascii('version')} 00 08 ${ascii('HTTP/1.1')}`);
    const headers = ['method', 'GET', 'url', '/', 'version', 'HTTP/1.1'];
    assert.equal(encodeHeaderBlock(V2, headers).toString('hex'), bytes.toString('hex'));
    assert.deepEqual(decode(V2, bytes), headers);
  });

  test('encodes and decodes a v3 response block of two pairs, in order', () => {
    const bytes = hex(`00 00 00 02 | 00 00 00 07 ${ascii(':status')} 00 00 00 06 ${ascii('200 OK')} | 00 00 00 08 ${ascii(':version')} 00 00 00 08 ${ascii('HTTP/1.1')}`);
    const headers = [':status', '200 OK', ':version', 'HTTP/1.1'];
    assert.equal(encodeHeaderBlock(V3, headers).toString('hex'), bytes.toString('hex'));
    assert.deepEqual(decode(V3, bytes), headers);
  });

  test('encodes and decodes a block of zero pairs', () => {
    assert.equal(encodeHeaderBlock(V2, []).toString('hex'), '0000');
    assert.equal(encodeHeaderBlock(V3, []).toString('hex'), '00000000');
    assert.deepEqual(decode(V2, hex('00 00')), []);
    assert.deepEqual(decode(V31, hex('00 00 00 00')), []);
  });

  test('writes a 300-byte value with a 16-bit length in v2 and a 32-bit length in v3', () => {
    const value = 'v'.repeat(300);
    assert.equal(encodeHeaderBlock(V2, ['x', value]).toString('hex'), hex(`00 01 00 01 78 01 2c ${ascii(value)}`).toString('hex'));
    assert.equal(encodeHeaderBlock(V3, ['x', value]).toString('hex'), hex(`00 00 00 01 00 00 00 01 78 00 00 01 2c ${ascii(value)}`).toString('hex'));
  });

  test('reads a v3 value longer than 65535 bytes through its 32-bit length', () => {
    const value = 'w'.repeat(70_000);
    const bytes = hex(`00 00 00 01 00 00 00 01 78 00 01 11 70 ${ascii(value)}`);
    assert.deepEqual(decode(V3, bytes), ['x', value]);
    assert.equal(encodeHeaderBlock(V3, ['x', value]).toString('hex'), bytes.toString('hex'));
  });

  test('reads a v2 value of 65535 bytes, the most a 16-bit length holds', () => {
    const value = 'z'.repeat(0xffff);
    const bytes = hex(`00 01 00 01 78 ff ff ${ascii(value)}`);
    assert.deepEqual(decode(V2, bytes), ['x', value]);
    assert.equal(encodeHeaderBlock(V2, ['x', value]).toString('hex'), bytes.toString('hex'));
  });

  test('returns NUL-separated values as repeated pairs, in order', () => {
    const v3 = hex(`00 00 00 02 | 00 00 00 0a ${ascii('set-cookie')} 00 00 00 05 61 00 62 00 63 | 00 00 00 01 ${ascii('x')} 00 00 00 01 ${ascii('y')}`);
    assert.deepEqual(decode(V3, v3), ['set-cookie', 'a', 'set-cookie', 'b', 'set-cookie', 'c', 'x', 'y']);
    const v2 = hex(`00 01 | 00 04 ${ascii('vary')} 00 0e ${ascii('accept')} 00 ${ascii('cookies')}`);
    assert.deepEqual(decode(V2, v2), ['vary', 'accept', 'vary', 'cookies']);
  });

  test('encodes a NUL-joined value as one pair', () => {
    assert.equal(encodeHeaderBlock(V3, ['set-cookie', 'a\0b']).toString('hex'), hex(`00 00 00 01 00 00 00 0a ${ascii('set-cookie')} 00 00 00 03 61 00 62`).toString('hex'));
  });

  test('accepts an empty value in v3', () => {
    for (const version of V3_FAMILY) assert.deepEqual(decode(version, hex(`00 00 00 01 00 00 00 01 ${ascii('x')} 00 00 00 00`)), ['x', '']);
  });

  test('reads names with digits, dashes and a leading colon, and values as latin1', () => {
    const bytes = block(V3, 2, [[':x-2', 'caf\u00e9'], ['a.b_c', 'v']]);
    assert.deepEqual(decode(V3, bytes), [':x-2', 'caf\u00e9', 'a.b_c', 'v']);
    assert.equal(encodeHeaderBlock(V3, [':x-2', 'caf\u00e9', 'a.b_c', 'v']).toString('hex'), bytes.toString('hex'));
  });

  test('accepts exactly maxHeaderCount pairs', () => {
    const pairs = Array.from({ length: 100 }, (_, i) => [`h${i}`, 'v'] as const);
    for (const version of ALL_VERSIONS) assert.equal(decode(version, block(version, 100, pairs)).length, 200);
  });

  test('round-trips blocks through encode and decode', () => {
    const lists = [[], ['a', 'b'], ['accept', '*/*', 'user-agent', 'x'.repeat(1000), 'cookie', 'a=1; b=2'], ['x-many', 'one', 'x-many', 'two']];
    for (const version of ALL_VERSIONS) {
      for (const list of lists) {
        const encoded = list[0] === 'x-many' ? ['x-many', 'one\0two'] : list;
        assert.deepEqual(decode(version, encodeHeaderBlock(version, encoded)), list);
      }
    }
  });
});

describe('header blocks: a value seen before under a common name', () => {
  for (const version of ALL_VERSIONS) {
    test(`${version.label}: reads a host of the same length but other bytes as what it is, not as the last one`, () => {
      const host = version.headers.host;
      assert.deepEqual(decode(version, encodeHeaderBlock(version, [host, 'a.example'])), [host, 'a.example']);
      assert.deepEqual(decode(version, encodeHeaderBlock(version, [host, 'a.example'])), [host, 'a.example']);
      assert.deepEqual(decode(version, encodeHeaderBlock(version, [host, 'b.example'])), [host, 'b.example']);
      assert.deepEqual(decode(version, encodeHeaderBlock(version, [host, 'a.example'])), [host, 'a.example']);
    });

    test(`${version.label}: still refuses a CR in a value whose other bytes match the last one`, () => {
      const agent = 'user-agent';
      assert.deepEqual(decode(version, encodeHeaderBlock(version, [agent, 'curl/8.0'])), [agent, 'curl/8.0']);
      failsStream(version, encodeHeaderBlock(version, [agent, 'curl/8\r0']), PROTOCOL_ERROR, 'SPRY_ERR_BAD_HEADER_VALUE');
      assert.deepEqual(decode(version, encodeHeaderBlock(version, [agent, 'curl/8.0'])), [agent, 'curl/8.0']);
    });
  }
});

describe('header blocks: invalid names and values are stream errors (PROTOCOL_ERROR)', () => {
  for (const version of ALL_VERSIONS) {
    describe(version.alpn, () => {
      test('refuses a zero-length name', () => {
        failsStream(version, block(version, 1, [['', 'v']]), PROTOCOL_ERROR, 'SPRY_ERR_BAD_HEADER_NAME');
        failsStream(version, block(version, 2, [['ok', 'v'], ['', 'v']]), PROTOCOL_ERROR, 'SPRY_ERR_BAD_HEADER_NAME');
      });

      test('refuses a name that is only NUL', () => {
        failsStream(version, block(version, 1, [['\0', 'v']]), PROTOCOL_ERROR, 'SPRY_ERR_BAD_HEADER_NAME');
      });

      test('refuses an uppercase name', () => {
        failsStream(version, block(version, 1, [['Host', 'example.com']]), PROTOCOL_ERROR, 'SPRY_ERR_BAD_HEADER_NAME');
        failsStream(version, block(version, 1, [['X', 'v']]), PROTOCOL_ERROR, 'SPRY_ERR_BAD_HEADER_NAME');
      });

      test('refuses a non-ASCII name', () => {
        failsStream(version, block(version, 1, [['x\u00ff', 'v']]), PROTOCOL_ERROR, 'SPRY_ERR_BAD_HEADER_NAME');
        failsStream(version, block(version, 1, [['\u0080', 'v']]), PROTOCOL_ERROR, 'SPRY_ERR_BAD_HEADER_NAME');
      });

      test('refuses a name with a space or a control character', () => {
        failsStream(version, block(version, 1, [['a b', 'v']]), PROTOCOL_ERROR, 'SPRY_ERR_BAD_HEADER_NAME');
        failsStream(version, block(version, 1, [['a\tb', 'v']]), PROTOCOL_ERROR, 'SPRY_ERR_BAD_HEADER_NAME');
        failsStream(version, block(version, 1, [['a\x7f', 'v']]), PROTOCOL_ERROR, 'SPRY_ERR_BAD_HEADER_NAME');
      });

      test('refuses a name that is not a token (RFC 9110 §5.6.2), such as one with a separator', () => {
        for (const name of ['a(b', 'a,b', 'a/b', 'a;b', 'a=b', 'a"b', 'a{b', 'a@b', 'a[b', 'x:y']) {
          failsStream(version, block(version, 1, [[name, 'v']]), PROTOCOL_ERROR, 'SPRY_ERR_BAD_HEADER_NAME');
        }
        assert.deepEqual(decode(version, block(version, 1, [["x-a.b_c~d!e#f$g%h&i'j*k+l^m`n|o", 'v']])), ["x-a.b_c~d!e#f$g%h&i'j*k+l^m`n|o", 'v']);
      });

      test('refuses a value holding CR or LF, alone or in a NUL-separated list', () => {
        for (const value of ['a\rb', 'a\nb', '\r\n', 'ok\0a\nb']) {
          failsStream(version, block(version, 1, [['x', value]]), PROTOCOL_ERROR, 'SPRY_ERR_BAD_HEADER_VALUE');
        }
      });

      test('refuses the same name twice', () => {
        failsStream(version, block(version, 2, [['accept', 'a'], ['accept', 'b']]));
        failsStream(version, block(version, 3, [['a', '1'], ['b', '2'], ['a', '3']]));
        // In a long block too (past the size where a scan of the names decoded so far gives way to a set).
        const many = Array.from({ length: 40 }, (_, i) => [`h${i}`, 'v'] as [string, string]);
        assert.equal(decode(version, block(version, 40, many)).length, 80);
        failsStream(version, block(version, 41, [...many, ['h3', 'again']]));
        failsStream(version, block(version, 42, [...many.slice(0, 20), ['user-agent', 'x'], ...many.slice(20), ['user-agent', 'y']]));
      });

      test('refuses a value that is only NUL, or starts or ends with NUL, or has two NULs in a row', () => {
        failsStream(version, block(version, 1, [['x', '\0']]));
        failsStream(version, block(version, 1, [['x', '\0a']]));
        failsStream(version, block(version, 1, [['x', 'a\0']]));
        failsStream(version, block(version, 1, [['x', 'a\0\0b']]));
        failsStream(version, block(version, 2, [['y', 'ok'], ['x', 'a\0b\0']]));
      });

      test('refuses a bad name even after a good pair, once the block has been read to its end', () => {
        failsStream(version, block(version, 3, [['a', '1'], ['B', '2'], ['c', '3']]), PROTOCOL_ERROR, 'SPRY_ERR_BAD_HEADER_NAME');
      });

      test('refuses a count above maxHeaderCount with a stream error', () => {
        const pairs = Array.from({ length: 101 }, (_, i) => [`h${i}`, 'v'] as const);
        assert.throws(
          () => decode(version, block(version, 101, pairs)),
          (error: unknown) => error instanceof SpdyStreamError && error.code === 'SPRY_ERR_SPDY_TOO_MANY_HEADERS' && error.streamId === STREAM_ID,
        );
      });
    });
  }

  test('refuses an empty value in v2', () => {
    failsStream(V2, hex(`00 01 00 01 ${ascii('x')} 00 00`));
    failsStream(V2, block(V2, 2, [['a', '1'], ['b', '']]));
  });

  test('refuses a count above maxHeaderCount with FRAME_TOO_LARGE in v3', () => {
    const pairs = Array.from({ length: 3 }, (_, i) => [`h${i}`, 'v'] as const);
    for (const version of V3_FAMILY) failsStream(version, block(version, 3, pairs), FRAME_TOO_LARGE, 'SPRY_ERR_SPDY_TOO_MANY_HEADERS', { maxHeaderCount: 2 });
  });

  test('refuses a count above maxHeaderCount in v2 with a status SPDY/2 defines (1-7; FRAME_TOO_LARGE is v3 only)', () => {
    const pairs = Array.from({ length: 3 }, (_, i) => [`h${i}`, 'v'] as const);
    assert.throws(
      () => decode(V2, block(V2, 3, pairs), { maxHeaderCount: 2 }),
      (error: unknown) => {
        assert.ok(error instanceof SpdyStreamError);
        assert.equal(error.code, 'SPRY_ERR_SPDY_TOO_MANY_HEADERS');
        assert.ok(error.status >= 1 && error.status <= V2.maxRstStatus, `RST_STREAM status ${error.status} does not exist in SPDY/2`);
        return true;
      },
    );
  });
});

describe('header blocks: structural damage is a session error', () => {
  for (const version of ALL_VERSIONS) {
    describe(version.alpn, () => {
      test('refuses a block with no count', () => {
        failsSession(version, Buffer.alloc(0));
        failsSession(version, Buffer.alloc(version.nvLengthBytes - 1));
      });

      test('refuses bytes after the last pair', () => {
        failsSession(version, block(version, 1, [['x', 'y']], '00'));
        failsSession(version, block(version, 0, [], '00 00 00 00'));
      });

      test('refuses fewer pairs than declared', () => {
        failsSession(version, block(version, 2, [['x', 'y']]));
        failsSession(version, block(version, 1, []));
      });

      test('refuses a pair cut inside a length, a name or a value', () => {
        const whole = block(version, 1, [['name', 'value']]);
        for (let end = version.nvLengthBytes; end < whole.length; end++) failsSession(version, whole.subarray(0, end));
      });

      test('refuses a name or value length running past the block', () => {
        failsSession(version, hex(`${len(version, 1)} ${len(version, 9)} ${ascii('abc')}`));
        failsSession(version, hex(`${len(version, 1)} ${len(version, 1)} ${ascii('a')} ${len(version, 9)} ${ascii('abc')}`));
      });

      test('lets structural damage outrank a bad name found earlier in the block', () => {
        failsSession(version, block(version, 1, [['Bad', 'v']], 'ff'));
        failsSession(version, block(version, 2, [['Bad', 'v']]));
      });
    });
  }

  test('refuses a negative (top bit set) count in v3', () => {
    for (const version of V3_FAMILY) failsSession(version, hex('80 00 00 01'));
    failsSession(V3, hex('ff ff ff ff'));
  });

  test('refuses a negative name or value length in v3', () => {
    failsSession(V3, hex(`00 00 00 01 80 00 00 01 ${ascii('x')} 00 00 00 01 ${ascii('y')}`));
    failsSession(V3, hex(`00 00 00 01 00 00 00 01 ${ascii('x')} 80 00 00 01 ${ascii('y')}`));
    failsSession(V31, hex(`00 00 00 01 00 00 00 01 ${ascii('x')} ff ff ff ff`));
  });
});

describe('header blocks: a request line spry does not serve is a stream error (PROTOCOL_ERROR)', () => {
  for (const version of ALL_VERSIONS) {
    const n = version.headers;
    const request = (method: string, path: string, host = 'localhost'): Buffer =>
      encodeHeaderBlock(version, [n.method, method, n.path, path, n.version, 'HTTP/1.1', n.host, host]);
    describe(version.alpn, () => {
      test('refuses a path that is not origin-form, or holds a space, DEL or a byte above 0x7f', () => {
        // (An empty value is refused by v2 already, as any empty value.)
        for (const path of ['x', 'a/b', '/a b', '/a\x7fb', '/a\xffb', '/a#b', '*', ...(version.allowsEmptyValue ? [''] : [])]) {
          failsStream(version, request('GET', path), PROTOCOL_ERROR, 'SPRY_ERR_BAD_TARGET');
        }
      });

      test('names what it refused, quoted, in the stream error it reads out (and in its stack), though it writes that only when read', () => {
        const refusal = (bytes: Buffer): SpdyStreamError => {
          try {
            decode(version, bytes);
          } catch (error) {
            assert.ok(error instanceof SpdyStreamError);
            return error;
          }
          assert.fail('the block was accepted');
        };
        const target = refusal(request('GET', '*'));
        assert.equal(target.message, 'request target "*" is not origin-form (* is for OPTIONS)');
        assert.match(String(target.stack), /^SpdyStreamError: request target "\*" is not origin-form/);
        assert.equal(refusal(request('GET', '/a b')).message, 'request target "/a b" has a character an origin-form target may not hold');
        assert.equal(refusal(request('G T', '/')).message, 'method "G T" is not a token');
        assert.equal(refusal(request('GET', '/', 'a b')).message, 'authority "a b" is not a host with an optional port');
      });

      test('takes * only with OPTIONS', () => {
        assert.equal(decode(version, request('OPTIONS', '*'))[3], '*');
      });

      test('refuses a method that is not a token', () => {
        for (const method of ['G T', 'G(T', 'GET/']) failsStream(version, request(method, '/'), PROTOCOL_ERROR, 'SPRY_ERR_BAD_METHOD');
      });

      test('refuses a host that is not a host with an optional port', () => {
        for (const host of ['a b', 'a/b', 'u@a', 'a:x', 'a:', 'a:123456', '[::1', '[zz]:1', '[::1]x']) {
          failsStream(version, request('GET', '/', host), PROTOCOL_ERROR, 'SPRY_ERR_BAD_AUTHORITY');
        }
        for (const host of ['localhost:8443', '127.0.0.1', '[::1]:443', 'xn--bcher-kva.example', 'a_b.example']) {
          assert.equal(decode(version, request('GET', '/', host))[7], host);
        }
      });
    });
  }

  test('takes an absolute http(s) URL in SPDY/2 url, whose host and path are checked too', () => {
    assert.equal(decode(V2, encodeHeaderBlock(V2, ['method', 'GET', 'url', 'https://localhost/a?b', 'version', 'HTTP/1.1']))[3], 'https://localhost/a?b');
    failsStream(V2, encodeHeaderBlock(V2, ['method', 'GET', 'url', 'http://a b/', 'version', 'HTTP/1.1']), PROTOCOL_ERROR, 'SPRY_ERR_BAD_AUTHORITY');
    failsStream(V2, encodeHeaderBlock(V2, ['method', 'GET', 'url', 'http://x/a b', 'version', 'HTTP/1.1']), PROTOCOL_ERROR, 'SPRY_ERR_BAD_TARGET');
    failsStream(V2, encodeHeaderBlock(V2, ['method', 'GET', 'url', 'ftp://x/', 'version', 'HTTP/1.1']), PROTOCOL_ERROR, 'SPRY_ERR_BAD_TARGET');
    for (const version of V3_FAMILY) {
      failsStream(version, encodeHeaderBlock(version, [':method', 'GET', ':path', 'http://x/', ':version', 'HTTP/1.1']), PROTOCOL_ERROR, 'SPRY_ERR_BAD_TARGET');
    }
  });
});
