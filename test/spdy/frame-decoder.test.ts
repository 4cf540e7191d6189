// Golden frames for the FrameDecoder, hand-written from the byte layouts in
// docs/spdy-protocol.md §2-§3 (and its §14 vectors, verbatim), never produced by
// our encoder. Every input is decoded whole, byte by byte, in two pieces at every offset and at
// random split points, and all of them must agree (harness.ts).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FrameDecoder } from '../../src/spdy/frame-decoder.ts';
import type { ControlFrame } from '../../src/spdy/frames.ts';
import type { SpdyProtocolError } from '../../src/spdy/protocol-error.ts';
import type { SpdyVersion } from '../../src/spdy/versions.ts';
import {
  V2,
  V3_FAMILY,
  ALL_VERSIONS,
  control,
  data,
  decodeChunks,
  decodeEveryWay,
  hex,
  type DecodedEvent,
} from './harness.ts';

const PROTOCOL_ERROR = 1;
const UNSUPPORTED_VERSION = 4;

/** A PING that follows a frame under test, to show that decoding went on right after it. */
const V2_PING_7 = hex('80 02 00 06 00 00 00 04 00 00 00 07');
const V3_PING_7 = hex('80 03 00 06 00 00 00 04 00 00 00 07');
const PING_7 = control({ type: 6, id: 7 });
/** DATA s=1 FIN "hi" (docs/spdy-protocol.md §14): it decodes the same in every version. */
const DATA_HI = hex('00 00 00 01 01 00 00 02 68 69');

function pingAfter(version: SpdyVersion): Buffer {
  return version.wire === 2 ? V2_PING_7 : V3_PING_7;
}

function decodes(version: SpdyVersion, input: Buffer, expected: DecodedEvent[]): void {
  assert.deepEqual(decodeEveryWay(version, input), expected);
}

function sessionError(code: string): DecodedEvent {
  return { kind: 'session-error', status: PROTOCOL_ERROR, code };
}

/**
 * The frame is refused with a session error, whatever follows it (a PING and a DATA frame) is
 * never reported, and the decoder stays failed.
 */
function failsSession(version: SpdyVersion, frame: Buffer, code: string, before: DecodedEvent[] = []): void {
  const input = Buffer.concat([frame, pingAfter(version), DATA_HI]);
  assert.deepEqual(decodeEveryWay(version, input), [...before, sessionError(code)]);
  const { decoder, sink } = decodeChunks(version, [input]);
  assert.equal(decoder.failed, true);
  decoder.push(Buffer.concat([pingAfter(version), DATA_HI]));
  assert.equal(sink.events.length, before.length + 1, 'a failed decoder reports nothing more');
}

describe('FrameDecoder: SPDY/2 golden frames', () => {
  test('decodes a SYN_STREAM with FIN, a 2-bit priority of 3 and its header block', () => {
    decodes(V2, hex('80 02 00 01 | 01 00 00 10 | 00 00 00 01 | 00 00 00 00 | c0 00 | 0a 0b 0c 0d 0e 0f'), [
      control({ type: 1, streamId: 1, associatedStreamId: 0, priority: 3, slot: 0, fin: true, unidirectional: false, headerBlock: '0a0b0c0d0e0f' }),
    ]);
  });

  test('decodes a unidirectional SYN_STREAM, masking reserved bits and ignoring the 6 unused priority bits and the unused byte', () => {
    decodes(V2, hex('80 02 00 01 | 02 00 00 0e | 80 00 00 02 | 80 00 00 01 | 7f ff | 01 02 03 04'), [
      control({ type: 1, streamId: 2, associatedStreamId: 1, priority: 1, slot: 0, fin: false, unidirectional: true, headerBlock: '01020304' }),
    ]);
  });

  test('reads the SYN_STREAM priority as the top 2 bits of byte 8', () => {
    for (const [byte, priority] of [[0x00, 0], [0x3f, 0], [0x40, 1], [0x80, 2], [0xbf, 2], [0xc0, 3], [0xff, 3]]) {
      const frame = hex(`80 02 00 01 00 00 00 0b 00 00 00 01 00 00 00 00 ${byte.toString(16).padStart(2, '0')} 00 aa`);
      const [event] = decodeEveryWay(V2, frame);
      assert.equal(event.kind === 'control' && event.frame.priority, priority, `byte 0x${byte.toString(16)}`);
    }
  });

  test('decodes a SYN_REPLY, skipping its 2 unused bytes before the header block', () => {
    decodes(V2, hex('80 02 00 02 | 00 00 00 0a | 00 00 00 01 | 00 00 | 0a 0b 0c 0d'), [
      control({ type: 2, streamId: 1, fin: false, headerBlock: '0a0b0c0d' }),
    ]);
  });

  test('decodes a SYN_REPLY with FIN whatever its unused bytes hold, masking the reserved bit', () => {
    decodes(V2, hex('80 02 00 02 | 01 00 00 09 | 80 00 00 07 | ff ff | 0a 0b 0c'), [control({ type: 2, streamId: 7, fin: true, headerBlock: '0a0b0c' })]);
  });

  test('decodes an RST_STREAM with REFUSED_STREAM', () => {
    decodes(V2, hex('80 02 00 03 00 00 00 08 00 00 00 01 00 00 00 03'), [control({ type: 3, streamId: 1, status: 3 })]);
  });

  test('decodes the docs/spdy-protocol.md §14 SETTINGS MAX_CONCURRENT_STREAMS=100 with its little-endian id', () => {
    decodes(V2, hex('80 02 00 04 00 00 00 0c 00 00 00 01 04 00 00 00 00 00 00 64'), [
      control({ type: 4, clearSettings: false, entries: [{ id: 4, flags: 0, value: 100 }] }),
    ]);
  });

  test("decodes node-spdy's docs/spdy-protocol.md §14 v2 SETTINGS as id 7 with flags 0x01", () => {
    decodes(V2, hex('80 02 00 04 00 00 00 0c 00 00 00 01 07 00 00 01 00 10 00 00'), [
      control({ type: 4, clearSettings: false, entries: [{ id: 7, flags: 1, value: 0x10_0000 }] }),
    ]);
  });

  test('decodes a SETTINGS with CLEAR_SETTINGS and two entries, reading all three id bytes little-endian', () => {
    decodes(V2, hex('80 02 00 04 | 01 00 00 14 | 00 00 00 02 | 04 00 00 00 00 00 03 e8 | 01 02 03 02 ff ff ff ff'), [
      control({
        type: 4,
        clearSettings: true,
        entries: [
          { id: 4, flags: 0, value: 1000 },
          { id: 0x03_0201, flags: 2, value: 0xffff_ffff },
        ],
      }),
    ]);
  });

  test('decodes the docs/spdy-protocol.md §14 NOOP', () => {
    decodes(V2, hex('80 02 00 05 00 00 00 00'), [control({ type: 5 })]);
  });

  test('decodes a PING with a 32-bit unsigned id', () => {
    decodes(V2, hex('80 02 00 06 00 00 00 04 ff ff ff fe'), [control({ type: 6, id: 0xffff_fffe })]);
  });

  test('decodes the docs/spdy-protocol.md §14 GOAWAY of 4 bytes without a status', () => {
    decodes(V2, hex('80 02 00 07 00 00 00 04 00 00 00 00'), [control({ type: 7, lastGoodStreamId: 0, status: undefined })]);
  });

  test('decodes a GOAWAY, masking the reserved bit of the last-good stream id', () => {
    decodes(V2, hex('80 02 00 07 00 00 00 04 80 00 00 05'), [control({ type: 7, lastGoodStreamId: 5, status: undefined })]);
  });

  test('accepts the 8-byte GOAWAY node-spdy sends in v2', () => {
    const events = decodeEveryWay(V2, Buffer.concat([hex('80 02 00 07 00 00 00 08 00 00 00 03 00 00 00 00'), V2_PING_7]));
    assert.equal(events.length, 2);
    const [goaway, ping] = events;
    assert.equal(goaway.kind, 'control');
    assert.equal(goaway.kind === 'control' && goaway.frame.type, 7);
    assert.equal(goaway.kind === 'control' && goaway.frame.lastGoodStreamId, 3);
    assert.deepEqual(ping, PING_7);
  });

  test('decodes a HEADERS with FIN, skipping its 2 unused bytes', () => {
    decodes(V2, hex('80 02 00 08 | 01 00 00 0a | 00 00 00 03 | 00 00 | 0a 0b 0c 0d'), [control({ type: 8, streamId: 3, fin: true, headerBlock: '0a0b0c0d' })]);
  });

  test('decodes the docs/spdy-protocol.md §14 DATA s=1 FIN "hi"', () => {
    decodes(V2, DATA_HI, [data(1, 'hi', true)]);
  });

  test('accepts a WINDOW_UPDATE in v2 (node-spdy sends them)', () => {
    decodes(V2, hex('80 02 00 09 00 00 00 08 00 00 00 01 00 01 00 00'), [control({ type: 9, streamId: 1, delta: 65_536 })]);
  });
});

for (const version of V3_FAMILY) {
  describe(`FrameDecoder: ${version.alpn} golden frames`, () => {
    test('decodes a SYN_STREAM with FIN, a 3-bit priority of 3 (node-spdy writes 0x60) and slot 0', () => {
      decodes(version, hex('80 03 00 01 | 01 00 00 10 | 00 00 00 01 | 00 00 00 00 | 60 00 | 0a 0b 0c 0d 0e 0f'), [
        control({ type: 1, streamId: 1, associatedStreamId: 0, priority: 3, slot: 0, fin: true, unidirectional: false, headerBlock: '0a0b0c0d0e0f' }),
      ]);
    });

    test('decodes a unidirectional SYN_STREAM with a slot, masking reserved bits and ignoring the 5 unused priority bits', () => {
      decodes(version, hex('80 03 00 01 | 02 00 00 0e | 80 00 00 02 | 80 00 00 01 | ff 05 | 01 02 03 04'), [
        control({ type: 1, streamId: 2, associatedStreamId: 1, priority: 7, slot: 5, fin: false, unidirectional: true, headerBlock: '01020304' }),
      ]);
    });

    test('reads the SYN_STREAM priority as the top 3 bits of byte 8', () => {
      for (const [byte, priority] of [[0x00, 0], [0x1f, 0], [0x20, 1], [0x40, 2], [0x60, 3], [0x80, 4], [0xa0, 5], [0xc0, 6], [0xe0, 7], [0xff, 7]]) {
        const frame = hex(`80 03 00 01 00 00 00 0b 00 00 00 01 00 00 00 00 ${byte.toString(16).padStart(2, '0')} 00 aa`);
        const [event] = decodeEveryWay(version, frame);
        assert.equal(event.kind === 'control' && event.frame.priority, priority, `byte 0x${byte.toString(16)}`);
      }
    });

    test('decodes a SYN_REPLY whose header block follows the stream id directly', () => {
      decodes(version, hex('80 03 00 02 | 00 00 00 08 | 00 00 00 01 | 0a 0b 0c 0d'), [control({ type: 2, streamId: 1, fin: false, headerBlock: '0a0b0c0d' })]);
    });

    test('decodes a SYN_REPLY with FIN, masking the reserved bit', () => {
      decodes(version, hex('80 03 00 02 | 01 00 00 07 | 80 00 00 07 | 0a 0b 0c'), [control({ type: 2, streamId: 7, fin: true, headerBlock: '0a0b0c' })]);
    });

    test('decodes a 4-byte SYN_REPLY as one with an empty header block', () => {
      decodes(version, hex('80 03 00 02 00 00 00 04 00 00 00 01'), [control({ type: 2, streamId: 1, fin: false, headerBlock: '' })]);
    });

    test('decodes the docs/spdy-protocol.md §14 RST_STREAM s=1 CANCEL', () => {
      decodes(version, hex('80 03 00 03 00 00 00 08 00 00 00 01 00 00 00 05'), [control({ type: 3, streamId: 1, status: 5 })]);
    });

    test('decodes an RST_STREAM, masking the reserved bit of its stream id', () => {
      decodes(version, hex('80 03 00 03 00 00 00 08 80 00 00 09 00 00 00 0b'), [control({ type: 3, streamId: 9, status: 11 })]);
    });

    test('decodes the docs/spdy-protocol.md §14 SETTINGS MAX_CONCURRENT_STREAMS=100 with its big-endian id', () => {
      decodes(version, hex('80 03 00 04 00 00 00 0c 00 00 00 01 00 00 00 04 00 00 00 64'), [
        control({ type: 4, clearSettings: false, entries: [{ id: 4, flags: 0, value: 100 }] }),
      ]);
    });

    test("decodes node-spdy's docs/spdy-protocol.md §14 v3 SETTINGS as id 7 with the PERSIST flag", () => {
      decodes(version, hex('80 03 00 04 00 00 00 0c 00 00 00 01 01 00 00 07 00 10 00 00'), [
        control({ type: 4, clearSettings: false, entries: [{ id: 7, flags: 1, value: 0x10_0000 }] }),
      ]);
    });

    test('decodes a SETTINGS with CLEAR_SETTINGS and two entries, flags first and the id big-endian', () => {
      decodes(version, hex('80 03 00 04 | 01 00 00 14 | 00 00 00 02 | 00 00 00 04 00 00 03 e8 | 02 03 02 01 ff ff ff ff'), [
        control({
          type: 4,
          clearSettings: true,
          entries: [
            { id: 4, flags: 0, value: 1000 },
            { id: 0x03_0201, flags: 2, value: 0xffff_ffff },
          ],
        }),
      ]);
    });

    test('decodes a SETTINGS with no entries', () => {
      decodes(version, hex('80 03 00 04 00 00 00 04 00 00 00 00'), [control({ type: 4, clearSettings: false, entries: [] })]);
    });

    test('decodes the docs/spdy-protocol.md §14 PING id=1', () => {
      decodes(version, hex('80 03 00 06 00 00 00 04 00 00 00 01'), [control({ type: 6, id: 1 })]);
    });

    test('decodes the docs/spdy-protocol.md §14 GOAWAY last=1 OK with its status', () => {
      decodes(version, hex('80 03 00 07 00 00 00 08 00 00 00 01 00 00 00 00'), [control({ type: 7, lastGoodStreamId: 1, status: 0 })]);
    });

    test('decodes a GOAWAY with INTERNAL_ERROR, masking the reserved bit', () => {
      decodes(version, hex('80 03 00 07 00 00 00 08 80 00 00 09 00 00 00 02'), [control({ type: 7, lastGoodStreamId: 9, status: 2 })]);
    });

    test('decodes a HEADERS with FIN whose header block follows the stream id directly', () => {
      decodes(version, hex('80 03 00 08 | 01 00 00 08 | 00 00 00 03 | 0a 0b 0c 0d'), [control({ type: 8, streamId: 3, fin: true, headerBlock: '0a0b0c0d' })]);
    });

    test('decodes the docs/spdy-protocol.md §14 WINDOW_UPDATE s=0 +983040', () => {
      decodes(version, hex('80 03 00 09 00 00 00 08 00 00 00 00 00 0f 00 00'), [control({ type: 9, streamId: 0, delta: 983_040 })]);
    });

    test('decodes a WINDOW_UPDATE, masking the reserved bits of its stream id and delta', () => {
      decodes(version, hex('80 03 00 09 00 00 00 08 80 00 00 01 ff ff ff ff'), [control({ type: 9, streamId: 1, delta: 0x7fff_ffff })]);
    });

    test('parses a CREDENTIAL down to its slot and goes on with the next frame', () => {
      const credential = hex('80 03 00 0a | 00 00 00 12 | 00 01 | 00 00 00 04 | de ad be ef | 00 00 00 04 | 30 02 01 00');
      decodes(version, Buffer.concat([credential, V3_PING_7]), [control({ type: 10, slot: 1 }), PING_7]);
    });

    test('decodes the docs/spdy-protocol.md §14 DATA s=1 FIN "hi"', () => {
      decodes(version, DATA_HI, [data(1, 'hi', true)]);
    });

    test('ignores a NOOP, which v3 removed', () => {
      decodes(version, Buffer.concat([hex('80 03 00 05 00 00 00 00'), V3_PING_7]), [PING_7]);
    });

    test('ignores a NOOP with a payload, skipping exactly its length', () => {
      decodes(version, Buffer.concat([hex('80 03 00 05 00 00 00 04 80 03 00 06'), V3_PING_7]), [PING_7]);
    });
  });
}

describe('FrameDecoder: DATA frames', () => {
  test('reports an empty DATA frame with FIN once, with an empty chunk', () => {
    for (const version of ALL_VERSIONS) decodes(version, hex('00 00 00 01 01 00 00 00'), [data(1, '', true)]);
  });

  test('reports an empty DATA frame without FIN', () => {
    decodes(V2, hex('00 00 00 03 00 00 00 00'), [data(3, '', false)]);
  });

  test('reads a 31-bit stream id', () => {
    decodes(V2, hex('7f ff ff ff 00 00 00 01 41'), [data(0x7fff_ffff, 'A', false)]);
  });

  test('reads only FIN from the DATA flags and ignores the others', () => {
    decodes(V2, hex('00 00 00 01 03 00 00 01 41'), [data(1, 'A', true)]);
    decodes(V2, hex('00 00 00 01 fe 00 00 01 41'), [data(1, 'A', false)]);
  });

  test('streams a large DATA frame in pieces, setting fin only on the last piece', () => {
    const payload = Buffer.alloc(70_000, 0x61);
    const frame = Buffer.concat([hex('00 00 00 05 01 01 11 70'), payload]);
    assert.deepEqual(decodeEveryWay(V2, frame), [data(5, payload.toString('latin1'), true)]);
    const pieces: { length: number; fin: boolean }[] = [];
    const decoder = new FrameDecoder(V2, {
      onControlFrame: () => assert.fail('no control frame'),
      onData: (_streamId, chunk, fin) => pieces.push({ length: chunk.length, fin }),
      onProtocolError: () => assert.fail('no error'),
    }, { maxControlFrameBytes: 16_384 });
    decoder.push(frame.subarray(0, 8 + 1000));
    decoder.push(frame.subarray(8 + 1000, 8 + 50_000));
    decoder.push(frame.subarray(8 + 50_000));
    assert.deepEqual(pieces, [
      { length: 1000, fin: false },
      { length: 49_000, fin: false },
      { length: 20_000, fin: true },
    ]);
  });

  test('reports a DATA frame fed byte by byte as one non-empty piece per byte', () => {
    const frame = hex('00 00 00 01 01 00 00 05 68 65 6c 6c 6f');
    const { sink } = decodeChunks(V2, [...frame].map((byte) => Buffer.from([byte])));
    assert.equal(sink.dataPieces, 5);
    assert.equal(sink.emptyPieces, 0);
    assert.deepEqual(sink.events, [data(1, 'hello', true)]);
  });

  test('hands DATA payloads out as views into the pushed chunk, without copying', () => {
    const chunk = Buffer.concat([DATA_HI]);
    let seen: Uint8Array | undefined;
    const decoder = new FrameDecoder(V2, {
      onControlFrame: () => assert.fail('no control frame'),
      onData: (_streamId, piece) => {
        seen = piece;
      },
      onProtocolError: () => assert.fail('no error'),
    }, { maxControlFrameBytes: 16_384 });
    decoder.push(chunk);
    assert.ok(seen !== undefined);
    assert.equal(seen.buffer, chunk.buffer);
    assert.equal(seen.byteOffset, chunk.byteOffset + 8);
  });

  test('accepts a DATA frame larger than the control frame limit', () => {
    const payload = Buffer.alloc(5000, 0x62);
    const frame = Buffer.concat([hex('00 00 00 01 01 00 13 88'), payload]);
    const { events } = decodeChunks(V2, [frame], { maxControlFrameBytes: 4096 });
    assert.deepEqual(events, [data(1, payload.toString('latin1'), true)]);
  });
});

describe('FrameDecoder: several frames in one chunk', () => {
  test('decodes a v3 conversation pushed as one chunk, in order', () => {
    const input = Buffer.concat([
      hex('80 03 00 04 00 00 00 0c 00 00 00 01 00 00 00 04 00 00 00 64'),
      hex('80 03 00 01 | 00 00 00 0e | 00 00 00 01 | 00 00 00 00 | 40 00 | 0a 0b 0c 0d'),
      hex('80 03 00 09 00 00 00 08 00 00 00 00 00 0f 00 00'),
      hex('00 00 00 01 00 00 00 05 68 65 6c 6c 6f'),
      hex('80 03 00 06 00 00 00 04 00 00 00 01'),
      hex('00 00 00 01 01 00 00 00'),
      hex('80 03 00 08 | 00 00 00 06 | 00 00 00 01 | ee ff'),
      hex('00 00 00 03 01 00 00 02 68 69'),
      hex('80 03 00 03 00 00 00 08 00 00 00 01 00 00 00 05'),
      hex('80 03 00 07 00 00 00 08 00 00 00 01 00 00 00 00'),
    ]);
    for (const version of V3_FAMILY) {
      decodes(version, input, [
        control({ type: 4, clearSettings: false, entries: [{ id: 4, flags: 0, value: 100 }] }),
        control({ type: 1, streamId: 1, associatedStreamId: 0, priority: 2, slot: 0, fin: false, unidirectional: false, headerBlock: '0a0b0c0d' }),
        control({ type: 9, streamId: 0, delta: 983_040 }),
        data(1, 'hello', false),
        control({ type: 6, id: 1 }),
        data(1, '', true),
        control({ type: 8, streamId: 1, fin: false, headerBlock: 'eeff' }),
        data(3, 'hi', true),
        control({ type: 3, streamId: 1, status: 5 }),
        control({ type: 7, lastGoodStreamId: 1, status: 0 }),
      ]);
    }
  });

  test('decodes a v2 conversation pushed as one chunk, in order', () => {
    const input = Buffer.concat([
      hex('80 02 00 04 00 00 00 0c 00 00 00 01 04 00 00 00 00 00 00 64'),
      hex('80 02 00 01 | 01 00 00 0e | 00 00 00 01 | 00 00 00 00 | 80 00 | 0a 0b 0c 0d'),
      hex('80 02 00 05 00 00 00 00'),
      hex('80 02 00 02 | 00 00 00 08 | 00 00 00 01 | 00 00 | ee ff'),
      hex('00 00 00 01 00 00 00 03 61 62 63'),
      hex('80 02 00 06 00 00 00 04 00 00 00 02'),
      hex('00 00 00 01 01 00 00 01 64'),
      hex('80 02 00 07 00 00 00 04 00 00 00 01'),
    ]);
    decodes(V2, input, [
      control({ type: 4, clearSettings: false, entries: [{ id: 4, flags: 0, value: 100 }] }),
      control({ type: 1, streamId: 1, associatedStreamId: 0, priority: 2, slot: 0, fin: true, unidirectional: false, headerBlock: '0a0b0c0d' }),
      control({ type: 5 }),
      control({ type: 2, streamId: 1, fin: false, headerBlock: 'eeff' }),
      data(1, 'abc', false),
      control({ type: 6, id: 2 }),
      data(1, 'd', true),
      control({ type: 7, lastGoodStreamId: 1, status: undefined }),
    ]);
  });
});

describe('FrameDecoder: unknown control frame types', () => {
  test("skips proxygen's unknown type 11 and decodes the next frame", () => {
    for (const version of V3_FAMILY) decodes(version, Buffer.concat([hex('80 03 00 0b 00 00 00 02 d4 74'), V3_PING_7]), [PING_7]);
  });

  test('skips an unknown type with an empty payload', () => {
    decodes(V3_FAMILY[0], Buffer.concat([hex('80 03 00 64 00 00 00 00'), V3_PING_7]), [PING_7]);
    decodes(V2, Buffer.concat([hex('80 02 00 00 00 00 00 00'), V2_PING_7]), [PING_7]);
  });

  test('skips exactly the length of an unknown frame whose payload looks like a frame', () => {
    // X_FORWARDED_FOR (0xF000, node-spdy only) carrying the bytes of a PING id=9.
    const unknown = hex('80 02 f0 00 00 00 00 0c | 80 02 00 06 00 00 00 04 00 00 00 09');
    decodes(V2, Buffer.concat([unknown, V2_PING_7]), [PING_7]);
  });

  test('skips an unknown frame whose payload arrives over several chunks', () => {
    const body = Buffer.alloc(3000, 0x80);
    const unknown = Buffer.concat([hex('80 03 00 ff 00 00 0b b8'), body]);
    const input = Buffer.concat([unknown, V3_PING_7, DATA_HI]);
    for (const version of V3_FAMILY) decodes(version, input, [PING_7, data(1, 'hi', true)]);
    const { events } = decodeChunks(V3_FAMILY[0], [input.subarray(0, 10), input.subarray(10, 1500), input.subarray(1500, 3007), input.subarray(3007)]);
    assert.deepEqual(events, [PING_7, data(1, 'hi', true)]);
  });

  test('skips type 10 in v2, where CREDENTIAL does not exist, like any unknown type', () => {
    decodes(V2, Buffer.concat([hex('80 02 00 0a 00 00 00 02 ab cd'), V2_PING_7]), [PING_7]);
  });
});

describe('FrameDecoder: control frames of another version', () => {
  test('refuses a v2 SYN_STREAM on a v3 session with a stream error UNSUPPORTED_VERSION for its stream, then goes on', () => {
    const synStream = hex('80 02 00 01 | 01 00 00 10 | 00 00 00 05 | 00 00 00 00 | c0 00 | 0a 0b 0c 0d 0e 0f');
    for (const version of V3_FAMILY) {
      decodes(version, Buffer.concat([synStream, V3_PING_7]), [
        { kind: 'stream-error', streamId: 5, status: UNSUPPORTED_VERSION, code: 'SPRY_ERR_SPDY_BAD_VERSION' },
        PING_7,
      ]);
    }
  });

  test('refuses a v3 SYN_STREAM on a v2 session with UNSUPPORTED_VERSION, masking the reserved bit of the stream id', () => {
    const synStream = hex('80 03 00 01 | 01 00 00 10 | 80 00 00 07 | 00 00 00 00 | 60 00 | 0a 0b 0c 0d 0e 0f');
    decodes(V2, Buffer.concat([synStream, V2_PING_7]), [
      { kind: 'stream-error', streamId: 7, status: UNSUPPORTED_VERSION, code: 'SPRY_ERR_SPDY_BAD_VERSION' },
      PING_7,
    ]);
  });

  test('refuses a version 1 SYN_STREAM with UNSUPPORTED_VERSION (as Jetty does)', () => {
    const synStream = hex('80 01 00 01 | 00 00 00 0c | 00 00 00 01 | 00 00 00 00 | 00 00 | 00 00');
    decodes(V3_FAMILY[0], Buffer.concat([synStream, V3_PING_7]), [
      { kind: 'stream-error', streamId: 1, status: UNSUPPORTED_VERSION, code: 'SPRY_ERR_SPDY_BAD_VERSION' },
      PING_7,
    ]);
  });

  test('ignores other v2 control frames on a v3 session, even ones that would be invalid', () => {
    const input = Buffer.concat([
      hex('80 02 00 06 00 00 00 04 00 00 00 09'), // PING
      hex('80 02 00 04 00 00 00 0c 00 00 00 01 04 00 00 00 00 00 00 64'), // SETTINGS
      hex('80 02 00 02 00 00 00 08 00 00 00 01 00 00 ee ff'), // SYN_REPLY
      hex('80 02 00 03 00 00 00 08 00 00 00 01 00 00 00 00'), // RST_STREAM with status 0
      hex('80 02 00 07 00 00 00 04 00 00 00 00'), // GOAWAY
      V3_PING_7,
    ]);
    for (const version of V3_FAMILY) decodes(version, input, [PING_7]);
  });

  test('ignores other v3 control frames on a v2 session, even ones that would be invalid', () => {
    const input = Buffer.concat([
      hex('80 03 00 07 00 00 00 08 00 00 00 01 00 00 00 00'), // GOAWAY
      hex('80 03 00 09 00 00 00 08 00 00 00 00 00 00 00 00'), // WINDOW_UPDATE of 0 on the session
      hex('80 03 00 08 00 00 00 06 00 00 00 00 ee ff'), // HEADERS on stream 0
      V2_PING_7,
    ]);
    decodes(V2, input, [PING_7]);
  });
});

describe('FrameDecoder: stream errors', () => {
  test('answers a WINDOW_UPDATE of 0 on a stream with a stream error PROTOCOL_ERROR and goes on', () => {
    for (const version of ALL_VERSIONS) {
      decodes(version, Buffer.concat([hex(`80 0${version.wire} 00 09 00 00 00 08 00 00 00 03 00 00 00 00`), pingAfter(version)]), [
        { kind: 'stream-error', streamId: 3, status: PROTOCOL_ERROR, code: 'SPRY_ERR_SPDY_BAD_WINDOW_DELTA' },
        PING_7,
      ]);
    }
  });

  test('treats a WINDOW_UPDATE delta that is only the reserved bit as 0', () => {
    decodes(V3_FAMILY[0], Buffer.concat([hex('80 03 00 09 00 00 00 08 00 00 00 03 80 00 00 00'), V3_PING_7]), [
      { kind: 'stream-error', streamId: 3, status: PROTOCOL_ERROR, code: 'SPRY_ERR_SPDY_BAD_WINDOW_DELTA' },
      PING_7,
    ]);
  });
});

describe('FrameDecoder: session errors', () => {
  for (const version of ALL_VERSIONS) {
    const v = `80 0${version.wire}`;
    describe(version.alpn, () => {
      test('refuses an RST_STREAM whose length is not 8', () => {
        failsSession(version, hex(`${v} 00 03 00 00 00 04 00 00 00 01`), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
        failsSession(version, hex(`${v} 00 03 00 00 00 0c 00 00 00 01 00 00 00 05 00 00 00 00`), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
        failsSession(version, hex(`${v} 00 03 00 00 00 00`), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
      });

      test('refuses a PING whose length is not 4', () => {
        failsSession(version, hex(`${v} 00 06 00 00 00 05 00 00 00 00 00`), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
        failsSession(version, hex(`${v} 00 06 00 00 00 00`), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
        failsSession(version, hex(`${v} 00 06 00 00 00 08 00 00 00 01 00 00 00 01`), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
      });

      test('refuses a WINDOW_UPDATE whose length is not 8', () => {
        failsSession(version, hex(`${v} 00 09 00 00 00 04 00 00 00 01`), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
        failsSession(version, hex(`${v} 00 09 00 00 00 0c 00 00 00 01 00 00 00 01 00 00 00 01`), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
      });

      test('refuses a GOAWAY whose length is neither 4 nor 8', () => {
        failsSession(version, hex(`${v} 00 07 00 00 00 00`), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
        failsSession(version, hex(`${v} 00 07 00 00 00 06 00 00 00 01 00 00`), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
        failsSession(version, hex(`${v} 00 07 00 00 00 0c 00 00 00 01 00 00 00 00 00 00 00 00`), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
      });

      test('refuses a SETTINGS whose entry count disagrees with its length', () => {
        const entry = version.wire === 2 ? '04 00 00 00 00 00 00 64' : '00 00 00 04 00 00 00 64';
        failsSession(version, hex(`${v} 00 04 00 00 00 0c 00 00 00 02 ${entry}`), 'SPRY_ERR_SPDY_BAD_SETTINGS');
        failsSession(version, hex(`${v} 00 04 00 00 00 0c 00 00 00 00 ${entry}`), 'SPRY_ERR_SPDY_BAD_SETTINGS');
        failsSession(version, hex(`${v} 00 04 00 00 00 04 00 00 00 01`), 'SPRY_ERR_SPDY_BAD_SETTINGS');
        failsSession(version, hex(`${v} 00 04 00 00 00 0c ff ff ff ff ${entry}`), 'SPRY_ERR_SPDY_BAD_SETTINGS');
      });

      test('refuses a SETTINGS whose length is not 4 + 8n', () => {
        failsSession(version, hex(`${v} 00 04 00 00 00 08 00 00 00 01 00 00 00 04`), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
        failsSession(version, hex(`${v} 00 04 00 00 00 00`), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
        failsSession(version, hex(`${v} 00 04 00 00 00 03 00 00 00`), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
        failsSession(version, hex(`${v} 00 04 00 00 00 0d 00 00 00 01 00 00 00 04 00 00 00 64 00`), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
      });

      test('refuses DATA on stream 0', () => {
        failsSession(version, hex('00 00 00 00 01 00 00 02 68 69'), 'SPRY_ERR_SPDY_BAD_STREAM_ID');
        failsSession(version, hex('00 00 00 00 01 00 00 00'), 'SPRY_ERR_SPDY_BAD_STREAM_ID');
      });

      test('refuses a SYN_STREAM on stream 0, even with the reserved bit set', () => {
        failsSession(version, hex(`${v} 00 01 | 00 00 00 0e | 00 00 00 00 | 00 00 00 00 | 00 00 | 0a 0b 0c 0d`), 'SPRY_ERR_SPDY_BAD_STREAM_ID');
        failsSession(version, hex(`${v} 00 01 | 00 00 00 0e | 80 00 00 00 | 00 00 00 00 | 00 00 | 0a 0b 0c 0d`), 'SPRY_ERR_SPDY_BAD_STREAM_ID');
      });

      test('refuses a SYN_REPLY, HEADERS or RST_STREAM on stream 0', () => {
        const pad = version.replyPaddingBytes === 2 ? '00 00' : '';
        const length = version.replyPaddingBytes === 2 ? '08' : '06';
        failsSession(version, hex(`${v} 00 02 00 00 00 ${length} 00 00 00 00 ${pad} ee ff`), 'SPRY_ERR_SPDY_BAD_STREAM_ID');
        failsSession(version, hex(`${v} 00 08 00 00 00 ${length} 00 00 00 00 ${pad} ee ff`), 'SPRY_ERR_SPDY_BAD_STREAM_ID');
        failsSession(version, hex(`${v} 00 03 00 00 00 08 00 00 00 00 00 00 00 05`), 'SPRY_ERR_SPDY_BAD_STREAM_ID');
      });

      test('refuses an RST_STREAM with status 0', () => {
        failsSession(version, hex(`${v} 00 03 00 00 00 08 00 00 00 01 00 00 00 00`), 'SPRY_ERR_SPDY_BAD_STATUS');
      });

      test('refuses an RST_STREAM with flags', () => {
        failsSession(version, hex(`${v} 00 03 01 00 00 08 00 00 00 01 00 00 00 05`), 'SPRY_ERR_SPDY_BAD_STATUS');
        failsSession(version, hex(`${v} 00 03 80 00 00 08 00 00 00 01 00 00 00 05`), 'SPRY_ERR_SPDY_BAD_STATUS');
      });

      test('refuses a SYN_STREAM shorter than 10 bytes', () => {
        // proxygen's shortSynStream, in this version.
        failsSession(version, hex(`${v} 00 01 01 00 00 04 61 62 63 64`), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
        failsSession(version, hex(`${v} 00 01 00 00 00 09 00 00 00 01 00 00 00 00 00`), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
      });

      test('refuses a WINDOW_UPDATE of 0 on the session', () => {
        failsSession(version, hex(`${v} 00 09 00 00 00 08 00 00 00 00 00 00 00 00`), 'SPRY_ERR_SPDY_BAD_WINDOW_DELTA');
      });

      test('refuses a control frame larger than maxControlFrameBytes as soon as its header arrives', () => {
        const header = hex(`${v} 00 01 01 00 10 01`); // SYN_STREAM of 4097 bytes
        const { events, decoder } = decodeChunks(version, [header], { maxControlFrameBytes: 4096 });
        assert.deepEqual(events, [sessionError('SPRY_ERR_SPDY_FRAME_TOO_LARGE')]);
        assert.equal(decoder.failed, true);
        const split = decodeChunks(version, [header.subarray(0, 5), header.subarray(5)], { maxControlFrameBytes: 4096 });
        assert.deepEqual(split.events, [sessionError('SPRY_ERR_SPDY_FRAME_TOO_LARGE')]);
      });

      test('refuses a 16 MiB control frame header without waiting for its payload', () => {
        // SETTINGS of 0xfffffc bytes: a valid 4 + 8n length, only too large.
        const { events } = decodeChunks(version, [hex(`${v} 00 04 00 ff ff fc 00 1f ff ff`)], { maxControlFrameBytes: 8192 });
        assert.deepEqual(events, [sessionError('SPRY_ERR_SPDY_FRAME_TOO_LARGE')]);
      });

      test('accepts a control frame of exactly maxControlFrameBytes', () => {
        const block = Buffer.alloc(4096 - 10, 0xab);
        const frame = Buffer.concat([hex(`${v} 00 01 00 00 10 00 00 00 00 01 00 00 00 00 00 00`), block]);
        const { events } = decodeChunks(version, [frame, pingAfter(version)], { maxControlFrameBytes: 4096 });
        assert.deepEqual(events, [
          control({ type: 1, streamId: 1, associatedStreamId: 0, priority: 0, slot: 0, fin: false, unidirectional: false, headerBlock: block.toString('hex') }),
          PING_7,
        ]);
      });

      test('reports nothing after a session error, however the bytes keep coming', () => {
        const bad = hex(`${v} 00 06 00 00 00 00`);
        const events: string[] = [];
        const decoder = new FrameDecoder(version, {
          onControlFrame: (frame: ControlFrame) => events.push(`frame ${frame.type}`),
          onData: (streamId: number) => events.push(`data ${streamId}`),
          onProtocolError: (error: SpdyProtocolError) => events.push(`${error.scope} ${error.code}`),
        }, { maxControlFrameBytes: 16_384 });
        decoder.push(pingAfter(version));
        decoder.push(bad);
        for (let i = 0; i < 3; i++) decoder.push(Buffer.concat([pingAfter(version), DATA_HI]));
        decoder.push(hex('80'));
        assert.deepEqual(events, ['frame 6', 'session SPRY_ERR_SPDY_BAD_FRAME_LENGTH']);
        assert.equal(decoder.failed, true);
      });
    });
  }

  test('refuses a v2 SYN_REPLY or HEADERS shorter than 6 bytes', () => {
    failsSession(V2, hex('80 02 00 02 00 00 00 04 00 00 00 01'), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
    failsSession(V2, hex('80 02 00 08 00 00 00 05 00 00 00 01 00'), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
  });

  test('refuses a v3 SYN_REPLY or HEADERS shorter than 4 bytes', () => {
    failsSession(V3_FAMILY[0], hex('80 03 00 02 00 00 00 03 00 00 01'), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
    failsSession(V3_FAMILY[0], hex('80 03 00 08 00 00 00 00'), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
  });

  test('refuses a v2 NOOP with a payload', () => {
    failsSession(V2, hex('80 02 00 05 00 00 00 04 00 00 00 00'), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
  });

  test('refuses a v3 CREDENTIAL too short for its slot and proof length', () => {
    failsSession(V3_FAMILY[0], hex('80 03 00 0a 00 00 00 05 00 01 00 00 00'), 'SPRY_ERR_SPDY_BAD_FRAME_LENGTH');
  });

  test('reports the frames before a session error, then stops', () => {
    const input = hex('80 03 00 06 00 00 00 04 00 00 00 01 | 00 00 00 01 00 00 00 01 41 | 80 03 00 03 00 00 00 08 00 00 00 01 00 00 00 00');
    failsSession(V3_FAMILY[0], input, 'SPRY_ERR_SPDY_BAD_STATUS', [control({ type: 6, id: 1 }), data(1, 'A', false)]);
  });
});
