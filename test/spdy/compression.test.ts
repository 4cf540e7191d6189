// Header compression (docs/spdy-protocol.md §5): the dictionaries byte for byte,
// one zlib context per direction that spans frames, interop with node:zlib in both directions,
// the failures that end a session, the inflated-size cap, and real browser captures (docs/spdy-protocol.md §5.1).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import { HeaderDeflater, HeaderInflater } from '../../src/spdy/compression.ts';
import { decodeHeaderBlock, encodeHeaderBlock } from '../../src/spdy/header-block.ts';
import { SpdySessionError } from '../../src/spdy/protocol-error.ts';
import type { SpdyVersion } from '../../src/spdy/versions.ts';
import { ALL_VERSIONS, V2, V3, V31, V3_FAMILY, adler32, decodeChunks, decodeEveryWay, fixture, prng, type DecodedEvent } from './harness.ts';

const SPDY2_DICT = readFileSync(new URL('../../src/spdy/spdy2.dict', import.meta.url));
const SPDY3_DICT = readFileSync(new URL('../../src/spdy/spdy3.dict', import.meta.url));
const ONE_MIB = 1 << 20;
const PROTOCOL_ERROR = 1;
const LIMITS = { maxHeaderCount: 100 };

/** node:zlib compresses or decompresses `inputs` as successive SYNC_FLUSHed blocks of one stream. */
async function zlibBlocks(stream: zlib.Deflate | zlib.Inflate, inputs: readonly Uint8Array[]): Promise<Buffer[]> {
  const outputs: Buffer[] = [];
  let pending: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => pending.push(chunk));
  for (const input of inputs) {
    stream.write(input);
    await new Promise<void>((resolve) => stream.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
    outputs.push(Buffer.concat(pending));
    pending = [];
  }
  stream.close();
  return outputs;
}

/** Runs `inputs` through one HeaderDeflater, copying each result out of the shared scratch. */
function deflateAll(dictionary: Uint8Array, inputs: readonly Uint8Array[]): Buffer[] {
  const deflater = new HeaderDeflater(dictionary);
  const outputs = inputs.map((input) => Buffer.from(deflater.deflate(input)));
  deflater.close();
  return outputs;
}

function inflateAll(dictionary: Uint8Array, blocks: readonly Uint8Array[], maxBytes = ONE_MIB): Buffer[] {
  const inflater = new HeaderInflater(dictionary, maxBytes);
  const outputs = blocks.map((block) => Buffer.from(inflater.inflate(block)));
  inflater.close();
  return outputs;
}

function isSessionError(code: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof SpdySessionError, `expected a SpdySessionError, got ${String(error)}`);
    assert.equal(error.scope, 'session');
    assert.equal(error.status, PROTOCOL_ERROR);
    assert.equal(error.code, code);
    return true;
  };
}

/** Many header blocks that share names and values, as a browser's requests do. */
function requestBlocks(version: SpdyVersion, count: number, seed: number): Buffer[] {
  const random = prng(seed);
  const h = version.headers;
  const blocks: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const headers = [h.method, random() < 0.8 ? 'GET' : 'POST', h.path, `/assets/${Math.floor(random() * 50)}.js?v=${i}`, h.version, 'HTTP/1.1', h.host, 'example.com', h.scheme, 'https'];
    headers.push('user-agent', 'Mozilla/5.0 (X11; Linux x86_64) spry-test');
    if (random() < 0.5) headers.push('cookie', `session=${Math.floor(random() * 1e9).toString(36)}; theme=dark`);
    if (random() < 0.3) headers.push('x-random', Buffer.from(Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 256))).toString('latin1'));
    blocks.push(encodeHeaderBlock(version, headers));
  }
  return blocks;
}

function zlibHeaderDictId(block: Uint8Array): number {
  assert.equal(block[0] & 0x0f, 8, 'CM is deflate');
  assert.equal(((block[0] << 8) | block[1]) % 31, 0, 'FCHECK makes CMF·FLG a multiple of 31');
  assert.notEqual(block[1] & 0x20, 0, 'FDICT is set');
  return Buffer.from(block).readUInt32BE(2);
}

function endsWithSyncFlush(block: Uint8Array): boolean {
  return Buffer.from(block.subarray(-4)).toString('hex') === '0000ffff';
}

// Kept first: the scratch buffer is shared by the whole process and only ever grows, so this is
// the one place where it is still at its initial 16 KiB.
describe('compression: blocks larger than the initial 16 KiB scratch', () => {
  test('inflates blocks just under, at and just over 16 KiB produced by node:zlib', async () => {
    const sizes = [16_383, 16_384, 16_385, 40_000];
    const inputs = sizes.map((size, i) => encodeHeaderBlock(V3, ['x-pad', String.fromCharCode(97 + i).repeat(size - 17)]));
    assert.deepEqual(
      inputs.map((input) => input.length),
      sizes,
    );
    const blocks = await zlibBlocks(zlib.createDeflate({ dictionary: V3.dictionary }), inputs);
    const inflater = new HeaderInflater(V3.dictionary, ONE_MIB);
    for (let i = 0; i < inputs.length; i++) assert.equal(Buffer.compare(inflater.inflate(blocks[i]), inputs[i]), 0, `block of ${sizes[i]} bytes`);
  });

  test('deflates and inflates a 200 KiB header value with a high limit', () => {
    for (const version of ALL_VERSIONS) {
      const value = Buffer.from(Array.from({ length: 200 << 10 }, (_, i) => 0x21 + ((i * 7919) % 90))).toString('latin1');
      const input = encodeHeaderBlock(V3, ['x-big', value]);
      const [block] = deflateAll(version.dictionary, [input]);
      const [output] = inflateAll(version.dictionary, [block], ONE_MIB);
      assert.equal(Buffer.compare(output, input), 0);
    }
  });

  test('inflates a 200 KiB header value compressed by node:zlib, then small blocks again', async () => {
    const value = 'q'.repeat(200 << 10);
    const inputs = [encodeHeaderBlock(V3, ['a', '1']), encodeHeaderBlock(V3, ['x-big', value]), encodeHeaderBlock(V3, ['b', '2'])];
    const blocks = await zlibBlocks(zlib.createDeflate({ dictionary: V3.dictionary }), inputs);
    assert.ok(blocks[1].length < 2048, 'a run of one byte compresses well');
    const outputs = inflateAll(V3.dictionary, blocks, ONE_MIB);
    for (let i = 0; i < inputs.length; i++) assert.equal(Buffer.compare(outputs[i], inputs[i]), 0);
    assert.deepEqual(decodeHeaderBlock(V3, outputs[1], 1, LIMITS), ['x-big', value]);
  });
});

describe('compression: the dictionaries', () => {
  test('spdy2.dict is 907 bytes with Adler-32 0xdfa251b2: the v2 string plus a trailing NUL', () => {
    assert.equal(SPDY2_DICT.length, 907);
    assert.equal(adler32(SPDY2_DICT), 0xdfa2_51b2);
    assert.equal(SPDY2_DICT[906], 0);
    assert.ok(SPDY2_DICT.toString('latin1').startsWith('optionsgetheadpostput'));
    assert.ok(SPDY2_DICT.toString('latin1', 0, 906).endsWith('HTTP/1.1statusversionurl'));
    assert.ok(SPDY2_DICT.includes('if-unmodifiedsince'), 'the quirk without a hyphen is kept');
    assert.equal(createHash('sha256').update(SPDY2_DICT).digest('hex'), '0088d05d3b07b510aae796d67857c83308247ae79078d5743f412e483c23fbc6');
  });

  test('spdy3.dict is 1423 bytes with Adler-32 0xe3c6a7c2, length-prefixed tokens ending in ",enq=0."', () => {
    assert.equal(SPDY3_DICT.length, 1423);
    assert.equal(adler32(SPDY3_DICT), 0xe3c6_a7c2);
    assert.equal(SPDY3_DICT.subarray(0, 11).toString('latin1'), '\0\0\0\x07options');
    assert.ok(SPDY3_DICT.toString('latin1').endsWith(',enq=0.'));
    assert.equal(createHash('sha256').update(SPDY3_DICT).digest('hex'), '51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02');
  });

  test('the version table uses spdy2.dict for v2 and spdy3.dict for v3 and v3.1', () => {
    assert.equal(Buffer.compare(V2.dictionary, SPDY2_DICT), 0);
    assert.equal(Buffer.compare(V3.dictionary, SPDY3_DICT), 0);
    assert.equal(Buffer.compare(V31.dictionary, SPDY3_DICT), 0);
  });

  test('the adler32 written for these tests agrees with a known value', () => {
    assert.equal(adler32(Buffer.from('Wikipedia')), 0x11e6_0398);
    assert.equal(adler32(Buffer.alloc(0)), 1);
  });
});

describe('compression: one context per direction, spanning frames', () => {
  for (const version of ALL_VERSIONS) {
    test(`${version.alpn}: 300 successive blocks survive a HeaderDeflater → HeaderInflater round trip`, () => {
      const inputs = requestBlocks(version, 300, 7);
      const blocks = deflateAll(version.dictionary, inputs);
      const outputs = inflateAll(version.dictionary, blocks);
      for (let i = 0; i < inputs.length; i++) assert.equal(Buffer.compare(outputs[i], inputs[i]), 0, `block ${i}`);
    });
  }

  test('only the first block carries the zlib header, naming the dictionary by its Adler-32', () => {
    for (const [dictionary, id] of [[SPDY2_DICT, 0xdfa2_51b2], [SPDY3_DICT, 0xe3c6_a7c2]] as const) {
      const input = encodeHeaderBlock(V3, [':method', 'GET', ':path', '/']);
      const blocks = deflateAll(dictionary, [input, input, input]);
      assert.equal(zlibHeaderDictId(blocks[0]), id);
      for (const block of blocks) assert.ok(endsWithSyncFlush(block), 'every block ends with a SYNC_FLUSH');
      assert.ok(blocks[1].length < blocks[0].length - 6, 'a repeated block costs little: the context remembers it');
    }
  });

  test('a later block does not inflate without the blocks before it', () => {
    const inputs = requestBlocks(V3, 3, 11);
    const blocks = deflateAll(V3.dictionary, inputs);
    const fresh = new HeaderInflater(V3.dictionary, ONE_MIB);
    assert.throws(() => fresh.inflate(blocks[2]), isSessionError('SPRY_ERR_SPDY_COMPRESSION'));
  });

  test('an inflater and a deflater can interleave on the shared scratch when results are copied', () => {
    const deflater = new HeaderDeflater(V3.dictionary);
    const inflater = new HeaderInflater(V3.dictionary, ONE_MIB);
    for (const input of requestBlocks(V3, 50, 3)) {
      const block = Buffer.from(deflater.deflate(input));
      assert.equal(Buffer.compare(inflater.inflate(block), input), 0);
    }
  });
});

describe('compression: interop with node:zlib', () => {
  const settings = [
    { name: 'zlib defaults (32 KiB window)', options: {} },
    { name: "Chrome's settings (2 KiB window, level 9)", options: { windowBits: 11, level: 9 } },
    { name: "node-spdy's settings (2 KiB window, level 1)", options: { windowBits: 11, level: 1 } },
  ];
  for (const version of ALL_VERSIONS) {
    for (const { name, options } of settings) {
      test(`${version.alpn}: HeaderInflater inflates successive blocks from node:zlib deflate with ${name}`, async () => {
        const inputs = requestBlocks(version, 60, 5);
        const blocks = await zlibBlocks(zlib.createDeflate({ ...options, dictionary: version.dictionary }), inputs);
        assert.equal(zlibHeaderDictId(blocks[0]), adler32(version.dictionary));
        const outputs = inflateAll(version.dictionary, blocks);
        for (let i = 0; i < inputs.length; i++) assert.equal(Buffer.compare(outputs[i], inputs[i]), 0, `block ${i}`);
      });
    }

    test(`${version.alpn}: node:zlib inflate reads successive HeaderDeflater blocks`, async () => {
      const inputs = requestBlocks(version, 60, 9);
      const blocks = deflateAll(version.dictionary, inputs);
      const outputs = await zlibBlocks(zlib.createInflate({ dictionary: version.dictionary }), blocks);
      for (let i = 0; i < inputs.length; i++) assert.equal(Buffer.compare(outputs[i], inputs[i]), 0, `block ${i}`);
    });
  }

  test('Chrome-style compression starts with the bytes the notes observed: 38 ea e3 c6 a7 c2', async () => {
    const [first] = await zlibBlocks(zlib.createDeflate({ windowBits: 11, level: 9, dictionary: V3.dictionary }), [encodeHeaderBlock(V3, [':method', 'GET'])]);
    assert.equal(first.subarray(0, 6).toString('hex'), '38eae3c6a7c2');
    assert.equal(Buffer.compare(inflateAll(V3.dictionary, [first])[0], encodeHeaderBlock(V3, [':method', 'GET'])), 0);
  });
});

describe('compression: failures end the session', () => {
  test('feeding the same compressed block twice fails, because the context has moved on (spdylay)', async () => {
    const input = encodeHeaderBlock(V3, [':method', 'GET', ':path', '/', ':version', 'HTTP/1.1', ':host', 'example.com', ':scheme', 'https']);
    const ours = deflateAll(V3.dictionary, [input])[0];
    const [theirs] = await zlibBlocks(zlib.createDeflate({ windowBits: 11, level: 9, dictionary: V3.dictionary }), [input]);
    for (const block of [ours, theirs]) {
      const inflater = new HeaderInflater(V3.dictionary, ONE_MIB);
      assert.equal(Buffer.compare(inflater.inflate(block), input), 0);
      assert.throws(() => inflater.inflate(block), isSessionError('SPRY_ERR_SPDY_COMPRESSION'));
    }
  });

  test('feeding the same v2 block twice fails too', () => {
    const block = deflateAll(V2.dictionary, [encodeHeaderBlock(V2, ['method', 'GET', 'url', '/'])])[0];
    const inflater = new HeaderInflater(V2.dictionary, ONE_MIB);
    inflater.inflate(block);
    assert.throws(() => inflater.inflate(block), isSessionError('SPRY_ERR_SPDY_COMPRESSION'));
  });

  test('garbage instead of a zlib header fails', () => {
    // The last two: a header whose check bits are wrong, and a good header then a reserved block type.
    for (const garbage of [Buffer.from('ffffffffffff', 'hex'), Buffer.from('GET / HTTP/1.1\r\n'), Buffer.from('7800', 'hex'), Buffer.from('78daff', 'hex')]) {
      const inflater = new HeaderInflater(V3.dictionary, ONE_MIB);
      assert.throws(() => inflater.inflate(garbage), isSessionError('SPRY_ERR_SPDY_COMPRESSION'), garbage.toString('hex'));
    }
  });

  test('garbage after a good first block fails', () => {
    const [block] = deflateAll(V3.dictionary, [encodeHeaderBlock(V3, ['a', 'b'])]);
    const inflater = new HeaderInflater(V3.dictionary, ONE_MIB);
    inflater.inflate(block);
    // 0xff: a final block of the reserved type 3.
    assert.throws(() => inflater.inflate(Buffer.from('ffffffff', 'hex')), isSessionError('SPRY_ERR_SPDY_COMPRESSION'));
  });

  test('a block compressed with the other version’s dictionary fails', () => {
    const [v2Block] = deflateAll(V2.dictionary, [encodeHeaderBlock(V3, ['a', 'b'])]);
    assert.throws(() => new HeaderInflater(V3.dictionary, ONE_MIB).inflate(v2Block), isSessionError('SPRY_ERR_SPDY_COMPRESSION'));
    const [v3Block] = deflateAll(V3.dictionary, [encodeHeaderBlock(V2, ['a', 'b'])]);
    assert.throws(() => new HeaderInflater(V2.dictionary, ONE_MIB).inflate(v3Block), isSessionError('SPRY_ERR_SPDY_COMPRESSION'));
  });

  test('an inflated size over the limit fails with SPRY_ERR_SPDY_HEADERS_TOO_LARGE, and one at the limit passes', () => {
    const input = encodeHeaderBlock(V3, ['x-pad', 'p'.repeat(1000)]);
    const [block] = deflateAll(V3.dictionary, [input]);
    assert.equal(Buffer.compare(inflateAll(V3.dictionary, [block], input.length)[0], input), 0);
    assert.throws(() => new HeaderInflater(V3.dictionary, input.length - 1).inflate(block), isSessionError('SPRY_ERR_SPDY_HEADERS_TOO_LARGE'));
  });

  test('a header bomb (1 MiB of one byte in a ~1 KiB block) is stopped by the limit', async () => {
    const input = encodeHeaderBlock(V3, ['x-bomb', 'a'.repeat(ONE_MIB)]);
    const [block] = await zlibBlocks(zlib.createDeflate({ level: 9, dictionary: V3.dictionary }), [input]);
    assert.ok(block.length < 2048);
    assert.throws(() => new HeaderInflater(V3.dictionary, 64 << 10).inflate(block), isSessionError('SPRY_ERR_SPDY_HEADERS_TOO_LARGE'));
  });

  test('the limit applies to each block, not to the sum over the session', () => {
    const inputs = requestBlocks(V3, 20, 13);
    const largest = Math.max(...inputs.map((input) => input.length));
    const outputs = inflateAll(V3.dictionary, deflateAll(V3.dictionary, inputs), largest);
    assert.equal(outputs.length, 20);
  });
});

// Real captures kept by other projects as test vectors (docs/spdy-protocol.md §5.1), decoded every way through the
// FrameDecoder and inflated with one context per direction.
describe('compression: real browser captures', () => {
  const chromium1 = fixture('chromium-v2-syn-stream-1.hex');
  const chromium2 = fixture('chromium-v2-syn-stream-2.hex');
  const firefox = fixture('firefox-v3-syn-stream.hex');

  function synStream(event: DecodedEvent): Record<string, unknown> {
    assert.equal(event.kind, 'control');
    assert.ok(event.kind === 'control');
    assert.equal(event.frame.type, 1);
    return event.frame;
  }

  function headerMap(flat: string[]): Map<string, string> {
    const map = new Map<string, string>();
    for (let i = 0; i < flat.length; i += 2) map.set(flat[i], flat[i + 1]);
    return map;
  }

  test("Jetty's two Chromium SPDY/2 SYN_STREAMs decode every way and inflate with a shared context to 10 pairs each", () => {
    const events = decodeEveryWay(V2, Buffer.concat([chromium1, chromium2]));
    assert.equal(events.length, 2);
    const first = synStream(events[0]);
    const second = synStream(events[1]);
    assert.deepEqual(
      [first.streamId, first.associatedStreamId, first.priority, first.fin, first.unidirectional],
      [1, 0, 0, true, false],
    );
    assert.deepEqual(
      [second.streamId, second.associatedStreamId, second.priority, second.fin, second.unidirectional],
      [3, 0, 2, true, false],
    );
    assert.equal(String(first.headerBlock).slice(0, 12), '38eadfa251b2', 'Chromium v2 header, DICTID 0xdfa251b2');

    const inflater = new HeaderInflater(V2.dictionary, 64 << 10);
    const page = decodeHeaderBlock(V2, Buffer.from(inflater.inflate(Buffer.from(String(first.headerBlock), 'hex'))), 1, LIMITS);
    const favicon = decodeHeaderBlock(V2, Buffer.from(inflater.inflate(Buffer.from(String(second.headerBlock), 'hex'))), 3, LIMITS);
    assert.equal(page.length, 20);
    assert.equal(favicon.length, 20);
    const names = ['accept', 'accept-charset', 'accept-encoding', 'accept-language', 'host', 'method', 'scheme', 'url', 'user-agent', 'version'];
    assert.deepEqual(page.filter((_, i) => i % 2 === 0), names);
    assert.deepEqual(favicon.filter((_, i) => i % 2 === 0), names);
    const pageHeaders = headerMap(page);
    assert.equal(pageHeaders.get('method'), 'GET');
    assert.equal(pageHeaders.get('url'), '/');
    assert.equal(pageHeaders.get('version'), 'HTTP/1.1');
    assert.equal(pageHeaders.get('host'), 'localhost:13845');
    assert.equal(pageHeaders.get('scheme'), 'http');
    assert.match(pageHeaders.get('user-agent') ?? '', /Chromium\/16\.0\.912\.77/);
    const faviconHeaders = headerMap(favicon);
    assert.equal(faviconHeaders.get('url'), '/favicon.ico');
    assert.equal(faviconHeaders.get('accept'), '*/*');
  });

  test("the second Chromium block alone does not inflate: it depends on the first one's context", () => {
    const [event] = decodeChunks(V2, [chromium2]).events;
    const block = Buffer.from(String(synStream(event).headerBlock), 'hex');
    assert.throws(() => new HeaderInflater(V2.dictionary, 64 << 10).inflate(block), isSessionError('SPRY_ERR_SPDY_COMPRESSION'));
  });

  for (const version of V3_FAMILY) {
    test(`${version.alpn}: proxygen's Firefox SPDY/3 SYN_STREAM decodes at every split point and inflates to 13 pairs`, () => {
      const [event] = decodeEveryWay(version, firefox);
      const frame = synStream(event);
      assert.deepEqual([frame.streamId, frame.associatedStreamId, frame.priority, frame.slot, frame.fin], [1, 0, 0, 0, true]);
      assert.equal(String(frame.headerBlock).slice(0, 12), '38eae3c6a7c2', 'Chrome/Firefox v3 header, DICTID 0xe3c6a7c2');
      const inflater = new HeaderInflater(version.dictionary, 64 << 10);
      const headers = decodeHeaderBlock(version, Buffer.from(inflater.inflate(Buffer.from(String(frame.headerBlock), 'hex'))), 1, LIMITS);
      assert.equal(headers.length, 26);
      const map = headerMap(headers);
      assert.equal(map.get(':method'), 'GET');
      assert.equal(map.get(':path'), '/status.php');
      assert.equal(map.get(':version'), 'HTTP/1.1');
      assert.equal(map.get(':host'), 'www.afrind.sb.facebook.com');
      assert.equal(map.get(':scheme'), 'https');
      assert.equal(map.get('accept-encoding'), 'gzip, deflate, sdch');
      assert.match(map.get('cookie') ?? '', /^m_ts=1416951706; /);
    });
  }

  test('the Firefox capture inflated twice fails the second time (spdylay)', () => {
    const [event] = decodeChunks(V3, [firefox]).events;
    const block = Buffer.from(String(synStream(event).headerBlock), 'hex');
    const inflater = new HeaderInflater(V3.dictionary, 64 << 10);
    inflater.inflate(block);
    assert.throws(() => inflater.inflate(block), isSessionError('SPRY_ERR_SPDY_COMPRESSION'));
  });

  test("the Firefox capture is refused by a 500-byte control frame limit (proxygen's FrameTooLarge)", () => {
    const { events } = decodeChunks(V31, [firefox], { maxControlFrameBytes: 500 });
    assert.deepEqual(events, [{ kind: 'session-error', status: PROTOCOL_ERROR, code: 'SPRY_ERR_SPDY_FRAME_TOO_LARGE' }]);
  });

  test("the Firefox capture's headers exceed a 600-byte inflated limit (proxygen's FrameUncompressedTooLarge)", () => {
    const [event] = decodeChunks(V31, [firefox]).events;
    const block = Buffer.from(String(synStream(event).headerBlock), 'hex');
    assert.throws(() => new HeaderInflater(V31.dictionary, 600).inflate(block), isSessionError('SPRY_ERR_SPDY_HEADERS_TOO_LARGE'));
  });
});

describe('releasing an idle inflate window', () => {
  test('compact() frees most of the window and the next blocks inflate exactly as without it', async () => {
    // Blocks as a browser sends them: full 32 KiB window, every block repeating most of the last.
    const inputs = Array.from({ length: 6 }, (_, i) =>
      encodeHeaderBlock(V3, [':method', 'GET', ':path', `/page/${i}`, ':version', 'HTTP/1.1', ':host', 'example.com', ':scheme', 'https', 'cookie', `session=${'c'.repeat(200)}; n=${i}`, 'user-agent', 'Mozilla/5.0 (X11; Linux x86_64) spry-test']),
    );
    const blocks = await zlibBlocks(zlib.createDeflate({ dictionary: SPDY3_DICT }), inputs);
    const plain = new HeaderInflater(SPDY3_DICT, ONE_MIB);
    const compacting = new HeaderInflater(SPDY3_DICT, ONE_MIB);
    for (let i = 0; i < blocks.length; i++) {
      const expected = Buffer.from(plain.inflate(blocks[i]));
      if (i > 0) {
        // A window of 32 KiB holding the dictionary and a few hundred bytes of headers.
        assert.ok(compacting.compact() > 28_000, `block ${i}: most of the window was freed`);
        assert.equal(compacting.compact(), 0, 'a compacted window is not compacted twice');
      }
      assert.deepEqual(Buffer.from(compacting.inflate(blocks[i])), expected, `block ${i}`);
      assert.deepEqual(Buffer.from(expected), Buffer.from(inputs[i]));
    }
    plain.close();
    compacting.close();
  });

  test('a window that has wrapped is all history: compact() leaves it, freeing only the code tables (~7 KiB)', async () => {
    const big = encodeHeaderBlock(V3, [':method', 'GET', ':path', '/', 'x-big', 'v'.repeat(40_000)]);
    const next = encodeHeaderBlock(V3, [':method', 'GET', ':path', '/next', 'x-big', 'v'.repeat(40_000)]);
    const [first, second] = await zlibBlocks(zlib.createDeflate({ dictionary: SPDY3_DICT }), [big, next]);
    const inflater = new HeaderInflater(SPDY3_DICT, ONE_MIB);
    inflater.inflate(first);
    const freed = inflater.compact();
    assert.ok(freed > 6_000 && freed < 8_000, `freed ${freed}`);
    assert.equal(inflater.compact(), 0, 'nothing more the second time');
    assert.deepEqual(Buffer.from(inflater.inflate(second)), next);
    inflater.close();
  });
});

describe('releasing an idle deflate context', () => {
  const blocks = Array.from({ length: 5 }, (_, i) => encodeHeaderBlock(V3, [':status', '200 OK', ':version', 'HTTP/1.1', 'content-type', 'text/html; charset=utf-8', 'x-request', String(i), 'set-cookie', `id=${'z'.repeat(120)}`]));

  test('blocks deflated after release() and before it inflate as one stream, for our inflater and node:zlib', async () => {
    const deflater = new HeaderDeflater(SPDY3_DICT);
    const compressed: Buffer[] = [];
    for (let i = 0; i < blocks.length; i++) {
      if (i === 2 || i === 4) assert.ok(deflater.release() > 0, `release before block ${i}`);
      compressed.push(Buffer.from(deflater.deflate(blocks[i])));
    }
    deflater.close();
    const ours = new HeaderInflater(SPDY3_DICT, ONE_MIB);
    compressed.forEach((block, i) => assert.deepEqual(Buffer.from(ours.inflate(block)), Buffer.from(blocks[i]), `our inflater, block ${i}`));
    ours.close();
    const theirs = await zlibBlocks(zlib.createInflate({ dictionary: SPDY3_DICT }), compressed);
    theirs.forEach((block, i) => assert.deepEqual(block, Buffer.from(blocks[i]), `node:zlib, block ${i}`));
  });

  test('a deflater that has written nothing keeps its context (the zlib header is still to come)', () => {
    const deflater = new HeaderDeflater(SPDY3_DICT);
    assert.equal(deflater.release(), 0);
    const inflater = new HeaderInflater(SPDY3_DICT, ONE_MIB);
    assert.deepEqual(Buffer.from(inflater.inflate(Buffer.from(deflater.deflate(blocks[0])))), Buffer.from(blocks[0]));
    assert.ok(deflater.release() > 0);
    assert.equal(deflater.release(), 0, 'released once');
    deflater.close();
    inflater.close();
  });
});
