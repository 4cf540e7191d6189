// The two codecs of the uwsgi protocol, as pure functions: the request packet a router writes to
// a worker (src/uwsgi/packet.ts) and the HTTP/1.x response parser for what the worker writes
// back (src/upstream/http-response-parser.ts). Golden bytes are written out by hand from
// docs/uwsgi-wire.md, never produced by the encoder under test.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SpryError } from '../../src/errors.ts';
import type { FlatHeaders } from '../../src/exchange/exchange.ts';
import { HttpResponseParser, type ResponseSink } from '../../src/upstream/http-response-parser.ts';
import { decodeVars, encodeUwsgiRequest, MAX_VARS_BYTES, UwsgiRequestDecoder, type UwsgiDecodeResult } from '../../src/uwsgi/packet.ts';

/** Hex with spaces and comments (`# …` to the end of a line) ignored, for readable golden bytes. */
function hex(text: string): Buffer {
  return Buffer.from(text.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex');
}

function ascii(text: string): string {
  return Buffer.from(text, 'latin1').toString('hex');
}

const VALUE_300 = 'v'.repeat(300);

// modifier1 0, datasize 0x0155 = 341 (little-endian: 55 01), modifier2 0, then three vars.
const GOLDEN_VARS = { REQUEST_METHOD: 'GET', PATH_INFO: '/a', X: VALUE_300 };
const GOLDEN_PACKET = hex(`
  00 55 01 00                                   # modifier1, datasize 341 LE, modifier2
  0e 00 ${ascii('REQUEST_METHOD')} 03 00 ${ascii('GET')}
  09 00 ${ascii('PATH_INFO')}      02 00 ${ascii('/a')}
  01 00 ${ascii('X')}              2c 01 ${ascii(VALUE_300)}   # value length 300 = 0x012c LE
`);

function assertSpryError(code: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof SpryError, `expected a SpryError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

describe('encodeUwsgiRequest', () => {
  test('writes modifier1, the vars size little-endian and modifier2, then each key and value with little-endian lengths', () => {
    assert.equal(GOLDEN_PACKET.length, 4 + 341);
    assert.deepEqual(encodeUwsgiRequest(GOLDEN_VARS), GOLDEN_PACKET);
  });

  test('puts the given modifiers in bytes 0 and 3', () => {
    assert.deepEqual(encodeUwsgiRequest({ A: 'b' }, 5, 7), hex(`05 06 00 07  01 00 ${ascii('A')} 01 00 ${ascii('b')}`));
  });

  test('encodes no variables as a bare header with datasize 0', () => {
    assert.deepEqual(encodeUwsgiRequest({}), hex('00 00 00 00'));
  });

  test('encodes an empty value with a zero length', () => {
    assert.deepEqual(encodeUwsgiRequest({ QUERY_STRING: '' }), hex(`00 10 00 00  0c 00 ${ascii('QUERY_STRING')} 00 00`));
  });

  test('writes values as latin1 bytes, one byte per character', () => {
    assert.deepEqual(encodeUwsgiRequest({ P: '/caf\u00e9' }), hex(`00 0a 00 00  01 00 50  05 00 2f 63 61 66 e9`));
  });

  test('fills a vars block of exactly 65,535 bytes (datasize ff ff)', () => {
    // 2 + 1 + 2 + 65530 = 65535
    const packet = encodeUwsgiRequest({ K: 'x'.repeat(65_530) });
    assert.equal(MAX_VARS_BYTES, 65_535);
    assert.deepEqual(packet.subarray(0, 4), hex('00 ff ff 00'));
    assert.equal(packet.length, 4 + 65_535);
  });

  test('refuses a vars block of 65,536 bytes with SPRY_ERR_UWSGI_VARS_TOO_LARGE', () => {
    assert.throws(() => encodeUwsgiRequest({ K: 'x'.repeat(65_531) }), assertSpryError('SPRY_ERR_UWSGI_VARS_TOO_LARGE'));
  });

  test('refuses many variables that only together exceed 65,535 bytes', () => {
    const vars: Record<string, string> = {};
    for (let i = 0; i < 4; i++) vars[`HTTP_X_${i}`] = 'y'.repeat(20_000);
    assert.throws(() => encodeUwsgiRequest(vars), assertSpryError('SPRY_ERR_UWSGI_VARS_TOO_LARGE'));
  });

  test('refuses one value longer than a 16-bit length can say', () => {
    assert.throws(() => encodeUwsgiRequest({ HTTP_COOKIE: 'c'.repeat(70_000) }), assertSpryError('SPRY_ERR_UWSGI_VARS_TOO_LARGE'));
  });
});

describe('UwsgiRequestDecoder', () => {
  const BODY = Buffer.from('body bytes follow the vars');

  function assertGolden(result: UwsgiDecodeResult, rest: Buffer): void {
    assert.equal(result.done, true);
    if (!result.done) return;
    assert.equal(result.request.modifier1, 0);
    assert.equal(result.request.modifier2, 0);
    assert.deepEqual(result.request.vars, GOLDEN_VARS);
    assert.deepEqual(Buffer.from(result.rest), rest);
  }

  test('decodes the golden packet given whole', () => {
    assertGolden(new UwsgiRequestDecoder().push(GOLDEN_PACKET), Buffer.alloc(0));
  });

  test('hands back the bytes after the vars block as the start of the body', () => {
    assertGolden(new UwsgiRequestDecoder().push(Buffer.concat([GOLDEN_PACKET, BODY])), BODY);
  });

  test('decodes the golden packet fed byte by byte, done only at its last byte', () => {
    const decoder = new UwsgiRequestDecoder();
    for (let i = 0; i < GOLDEN_PACKET.length - 1; i++) {
      assert.equal(decoder.push(GOLDEN_PACKET.subarray(i, i + 1)).done, false, `done after ${i + 1} bytes`);
    }
    assertGolden(decoder.push(GOLDEN_PACKET.subarray(GOLDEN_PACKET.length - 1)), Buffer.alloc(0));
  });

  test('decodes the packet and body split in two at every offset', () => {
    const whole = Buffer.concat([GOLDEN_PACKET, BODY]);
    for (let split = 1; split < whole.length; split++) {
      const decoder = new UwsgiRequestDecoder();
      const first = decoder.push(whole.subarray(0, split));
      if (split < GOLDEN_PACKET.length) {
        assert.equal(first.done, false, `split ${split}`);
        assertGolden(decoder.push(whole.subarray(split)), BODY);
      } else {
        assertGolden(first, BODY.subarray(0, split - GOLDEN_PACKET.length));
      }
    }
  });

  test('reads the modifiers from bytes 0 and 3', () => {
    const result = new UwsgiRequestDecoder().push(hex(`05 06 00 07  01 00 41 01 00 62`));
    assert.ok(result.done);
    assert.equal(result.request.modifier1, 5);
    assert.equal(result.request.modifier2, 7);
    assert.deepEqual(result.request.vars, { A: 'b' });
  });

  test('refuses a key length that runs past the vars block with SPRY_ERR_UWSGI_BAD_PACKET', () => {
    // datasize 5: key length 9 but only 3 bytes follow.
    assert.throws(() => new UwsgiRequestDecoder().push(hex('00 05 00 00  09 00 41 42 43')), assertSpryError('SPRY_ERR_UWSGI_BAD_PACKET'));
  });

  test('refuses a value length that runs past the vars block', () => {
    assert.throws(() => decodeVars(hex('01 00 41  05 00 62')), assertSpryError('SPRY_ERR_UWSGI_BAD_PACKET'));
  });

  test('refuses a lone byte where a key length should be', () => {
    assert.throws(() => decodeVars(hex('01 00 41 01 00 62  07')), assertSpryError('SPRY_ERR_UWSGI_BAD_PACKET'));
  });
});

// ── HttpResponseParser ──────────────────────────────────────────────────────

interface Recorded {
  heads: { status: number; headers: FlatHeaders }[];
  body: Buffer[];
  ends: number;
}

function recorder(): { sink: ResponseSink; seen: Recorded } {
  const seen: Recorded = { heads: [], body: [], ends: 0 };
  return {
    seen,
    sink: {
      head: (status, headers) => seen.heads.push({ status, headers }),
      // The parser may hand out views of a buffer it keeps: copy.
      body: (chunk) => seen.body.push(Buffer.from(chunk)),
      end: () => seen.ends++,
    },
  };
}

/** Feeds `parts` in order to a fresh parser; `close` also signals the backend's end of stream. */
function parse(parts: readonly Buffer[], options: { noBody?: boolean; close?: boolean } = {}): { seen: Recorded; parser: HttpResponseParser } {
  const { sink, seen } = recorder();
  const parser = new HttpResponseParser(sink, options.noBody ?? false);
  for (const part of parts) parser.push(part);
  if (options.close === true) parser.close();
  return { seen, parser };
}

function bytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/** The response given whole, byte by byte, and split in two at every offset. */
function everySplit(response: Buffer): { name: string; parts: Buffer[] }[] {
  const splits = [{ name: 'whole', parts: [response] }, { name: 'byte by byte', parts: [...response].map((byte) => Buffer.from([byte])) }];
  for (let i = 1; i < response.length; i++) splits.push({ name: `split at ${i}`, parts: [response.subarray(0, i), response.subarray(i)] });
  return splits;
}

/** Runs `check` on every split of `response`; fails once, naming every split that failed. */
function checkEverySplit(response: Buffer, check: (parts: Buffer[], name: string) => void): void {
  const failures: string[] = [];
  for (const { name, parts } of everySplit(response)) {
    try {
      check(parts, name);
    } catch (error) {
      const at = name.startsWith('split at ') ? ` (after ${JSON.stringify(parts[0].toString('latin1').slice(-8))})` : '';
      failures.push(`${(error as Error).message.split('\n')[0]}${at}`);
    }
  }
  assert.deepEqual(failures, []);
}

function assertComplete(seen: Recorded, parser: HttpResponseParser, status: number, headers: FlatHeaders, body: string, context: string): void {
  assert.deepEqual(seen.heads, [{ status, headers }], `${context}: the head`);
  assert.equal(Buffer.concat(seen.body).toString('latin1'), body, `${context}: the body`);
  assert.equal(seen.ends, 1, `${context}: end() was called ${seen.ends} times, not once`);
  assert.equal(parser.done, true, `${context}: the parser is not done`);
}

describe('HttpResponseParser', () => {
  test('reads a Content-Length body, at every split point', () => {
    const response = bytes('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world');
    checkEverySplit(response, (parts, name) => {
      const { seen, parser } = parse(parts);
      assertComplete(seen, parser, 200, ['content-type', 'text/plain', 'content-length', '11'], 'hello world', name);
    });
  });

  test('ends a Content-Length body at its length, ignoring bytes after it', () => {
    const { seen, parser } = parse([bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA')]);
    assertComplete(seen, parser, 200, ['content-length', '2'], 'ok', 'trailing bytes');
  });

  test('ends a Content-Length: 0 response with its head', () => {
    const { seen, parser } = parse([bytes('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')]);
    assertComplete(seen, parser, 200, ['content-length', '0'], '', 'empty body');
  });

  test('keeps repeated headers (Set-Cookie) as separate pairs, names lower-cased, values trimmed', () => {
    const { seen } = parse([bytes('HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSET-COOKIE:b=2  \r\nContent-Length: 0\r\n\r\n')]);
    assert.deepEqual(seen.heads[0].headers, ['set-cookie', 'a=1', 'set-cookie', 'b=2', 'content-length', '0']);
  });

  test('accepts the HTTP/2.0 status line uWSGI echoes from SERVER_PROTOCOL, and a status line without a reason', () => {
    assert.equal(parse([bytes('HTTP/2.0 201 Created\r\nContent-Length: 0\r\n\r\n')]).seen.heads[0].status, 201);
    assert.equal(parse([bytes('HTTP/1.0 202\r\nContent-Length: 0\r\n\r\n')]).seen.heads[0].status, 202);
  });

  const CHUNKED = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n5\r\nhello\r\n6;name=value\r\n world\r\nA\r\n, 10 bytes\r\n0\r\n\r\n';

  test('reads a chunked body (drops Transfer-Encoding, honours chunk extensions), at every split point', () => {
    checkEverySplit(bytes(CHUNKED), (parts, name) => {
      const { seen, parser } = parse(parts);
      assertComplete(seen, parser, 200, ['x-a', '1'], 'hello world, 10 bytes', name);
    });
  });

  test('reads a chunked body with trailers, at every split point', () => {
    const response = bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Checksum: 42\r\n\r\n');
    checkEverySplit(response, (parts, name) => {
      const { seen, parser } = parse(parts);
      assertComplete(seen, parser, 200, [], 'abc', name);
    });
  });

  test('reads a close-delimited body until the backend closes', () => {
    const { sink, seen } = recorder();
    const parser = new HttpResponseParser(sink, false);
    parser.push(bytes('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst '));
    parser.push(bytes('second'));
    assert.equal(seen.ends, 0);
    assert.equal(parser.done, false);
    parser.close();
    assertComplete(seen, parser, 200, ['content-type', 'text/plain'], 'first second', 'close-delimited');
  });

  test('skips 1xx interim responses and reports only the final head', () => {
    const response = bytes('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyes');
    checkEverySplit(response, (parts, name) => {
      const { seen, parser } = parse(parts);
      assertComplete(seen, parser, 200, ['content-length', '3'], 'yes', name);
    });
  });

  test('expects no body after a HEAD request, whatever Content-Length says', () => {
    const { seen, parser } = parse([bytes('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n')], { noBody: true });
    assertComplete(seen, parser, 200, ['content-length', '1000'], '', 'HEAD');
  });

  for (const status of [204, 304]) {
    test(`expects no body after a ${status}`, () => {
      const { seen, parser } = parse([bytes(`HTTP/1.1 ${status} X\r\nContent-Length: 10\r\n\r\n`)]);
      assertComplete(seen, parser, status, ['content-length', '10'], '', String(status));
    });
  }

  const MALFORMED: [string, string][] = [
    ['a status line that is not HTTP', 'garbage\r\n\r\n'],
    ['a status line without a three-digit status', 'HTTP/1.1 2000 OK\r\n\r\n'],
    ['a status line with letters for a status', 'HTTP/1.1 abc OK\r\n\r\n'],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n'],
    ['a header line starting with a colon', 'HTTP/1.1 200 OK\r\n: value\r\n\r\n'],
    ['a Content-Length that is not a number', 'HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n'],
    ['two Content-Lengths that disagree', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'],
    ['a chunk size that is not hex', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['a chunk not followed by CRLF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY'],
    ['a header value holding a bare LF', 'HTTP/1.1 200 OK\r\nX-A: a\nX-B: b\r\n\r\n'],
    ['a header value holding a bare CR', 'HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n'],
    ['a header value holding NUL', 'HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n'],
    ['a header name that is not a token', 'HTTP/1.1 200 OK\r\nX A: b\r\n\r\n'],
    ['white space between a header name and its colon', 'HTTP/1.1 200 OK\r\nX-A : b\r\n\r\n'],
    ['a folded header line (obs-fold) that reads as a header of its own', 'HTTP/1.1 200 OK\r\nX-A: a\r\n Set-Cookie: b=1\r\n\r\n'],
    // What node:http would throw on when the head is forwarded (found by the backend fuzzer),
    // and what RFC 9110 §15 and §5.5 call invalid.
    ['a status below 100', 'HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n'],
    ['a status above 599', 'HTTP/1.1 999 High\r\nContent-Length: 0\r\n\r\n'],
    ['a header value holding another control character', 'HTTP/1.1 200 OK\r\nx: a\x01b\r\nContent-Length: 0\r\n\r\n'],
    ['a header value holding DEL', 'HTTP/1.1 200 OK\r\nx: a\x7fb\r\nContent-Length: 0\r\n\r\n'],
  ];
  for (const [what, response] of MALFORMED) {
    test(`refuses ${what} with SPRY_ERR_BACKEND_BAD_RESPONSE`, () => {
      assert.throws(() => parse([bytes(response)]), assertSpryError('SPRY_ERR_BACKEND_BAD_RESPONSE'));
    });
  }

  test('refuses a response head larger than 64 KiB without waiting for its end', () => {
    const head = `HTTP/1.1 200 OK\r\nX-Big: ${'b'.repeat(70_000)}`;
    assert.throws(() => parse([bytes(head)]), assertSpryError('SPRY_ERR_BACKEND_BAD_RESPONSE'));
  });

  const TRUNCATED: [string, string][] = [
    ['before any byte', ''],
    ['in the status line', 'HTTP/1.1 20'],
    ['in the headers', 'HTTP/1.1 200 OK\r\nContent-Le'],
    ['in a Content-Length body', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'],
    ['in a chunk', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab'],
    ['before the last chunk', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n'],
  ];
  for (const [where, response] of TRUNCATED) {
    test(`reports a response cut ${where} as SPRY_ERR_BACKEND_CLOSED`, () => {
      assert.throws(() => parse([bytes(response)], { close: true }), assertSpryError('SPRY_ERR_BACKEND_CLOSED'));
    });
  }

  test('lets a close after a complete response pass', () => {
    const { seen } = parse([bytes('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx')], { close: true });
    assert.equal(seen.ends, 1);
  });
});
