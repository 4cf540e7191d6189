// Every encoder against hand-written golden bytes (the docs/spdy-protocol.md §14 vectors
// verbatim, and frames written from the docs/spdy-protocol.md §3 layouts), then
// round trips through the decoder on top: a bug mirrored in encoder and decoder would hide in a
// round trip alone.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  encodeDataHeader,
  encodeGoaway,
  encodeHeaders,
  encodeNoop,
  encodePing,
  encodeRstStream,
  encodeSettings,
  encodeSynReply,
  encodeSynStream,
  encodeWindowUpdate,
} from '../../src/spdy/frame-encoder.ts';
import type { SpdyVersion } from '../../src/spdy/versions.ts';
import { ALL_VERSIONS, V2, V3, V31, V3_FAMILY, control, data, decodeEveryWay, hex, type DecodedEvent } from './harness.ts';

/** A fixed fake (not really compressed) header block: encoders copy it as it is. */
const BLOCK = hex('0a 0b 0c 0d 0e 0f');

function same(actual: Buffer, expected: string): void {
  assert.equal(actual.toString('hex'), hex(expected).toString('hex'));
}

function roundTrips(version: SpdyVersion, frame: Buffer, expected: DecodedEvent[]): void {
  assert.deepEqual(decodeEveryWay(version, frame), expected);
}

describe('frame encoders: golden bytes', () => {
  test('encodeSynStream writes a v2 SYN_STREAM with FIN and priority 3 in the top 2 bits', () => {
    same(encodeSynStream(V2, { streamId: 1, priority: 3, fin: true }, BLOCK), '80 02 00 01 | 01 00 00 10 | 00 00 00 01 | 00 00 00 00 | c0 00 | 0a 0b 0c 0d 0e 0f');
  });

  test('encodeSynStream writes a v3 SYN_STREAM with FIN, priority 3 in the top 3 bits and slot 0', () => {
    for (const version of V3_FAMILY) {
      same(encodeSynStream(version, { streamId: 1, priority: 3, fin: true }, BLOCK), '80 03 00 01 | 01 00 00 10 | 00 00 00 01 | 00 00 00 00 | 60 00 | 0a 0b 0c 0d 0e 0f');
    }
  });

  test('encodeSynStream writes a unidirectional push with its associated stream and the lowest priority', () => {
    same(encodeSynStream(V2, { streamId: 2, associatedStreamId: 1, priority: 3, unidirectional: true }, BLOCK), '80 02 00 01 | 02 00 00 10 | 00 00 00 02 | 00 00 00 01 | c0 00 | 0a 0b 0c 0d 0e 0f');
    same(encodeSynStream(V3, { streamId: 2, associatedStreamId: 1, priority: 7, unidirectional: true }, BLOCK), '80 03 00 01 | 02 00 00 10 | 00 00 00 02 | 00 00 00 01 | e0 00 | 0a 0b 0c 0d 0e 0f');
  });

  test('encodeSynStream defaults to no associated stream, priority 0 and no flags', () => {
    same(encodeSynStream(V3, { streamId: 0x7fff_ffff }, hex('aa')), '80 03 00 01 | 00 00 00 0b | 7f ff ff ff | 00 00 00 00 | 00 00 | aa');
  });

  test('encodeSynStream takes an empty header block', () => {
    same(encodeSynStream(V2, { streamId: 3, fin: true }, Buffer.alloc(0)), '80 02 00 01 | 01 00 00 0a | 00 00 00 03 | 00 00 00 00 | 00 00');
  });

  test('encodeSynReply writes v2 SYN_REPLY with its 2 unused bytes, and v3 without', () => {
    same(encodeSynReply(V2, 1, false, BLOCK), '80 02 00 02 | 00 00 00 0c | 00 00 00 01 | 00 00 | 0a 0b 0c 0d 0e 0f');
    same(encodeSynReply(V2, 1, true, BLOCK), '80 02 00 02 | 01 00 00 0c | 00 00 00 01 | 00 00 | 0a 0b 0c 0d 0e 0f');
    same(encodeSynReply(V3, 1, false, BLOCK), '80 03 00 02 | 00 00 00 0a | 00 00 00 01 | 0a 0b 0c 0d 0e 0f');
    same(encodeSynReply(V31, 5, true, BLOCK), '80 03 00 02 | 01 00 00 0a | 00 00 00 05 | 0a 0b 0c 0d 0e 0f');
  });

  test('encodeHeaders writes v2 HEADERS with its 2 unused bytes, and v3 without', () => {
    same(encodeHeaders(V2, 3, true, BLOCK), '80 02 00 08 | 01 00 00 0c | 00 00 00 03 | 00 00 | 0a 0b 0c 0d 0e 0f');
    same(encodeHeaders(V3, 3, false, BLOCK), '80 03 00 08 | 00 00 00 0a | 00 00 00 03 | 0a 0b 0c 0d 0e 0f');
    same(encodeHeaders(V31, 3, true, BLOCK), '80 03 00 08 | 01 00 00 0a | 00 00 00 03 | 0a 0b 0c 0d 0e 0f');
  });

  test('encodeRstStream writes the docs/spdy-protocol.md §14 v3 RST_STREAM s=1 CANCEL, and its v2 form', () => {
    same(encodeRstStream(V3, 1, 5), '80 03 00 03 00 00 00 08 00 00 00 01 00 00 00 05');
    same(encodeRstStream(V31, 1, 5), '80 03 00 03 00 00 00 08 00 00 00 01 00 00 00 05');
    same(encodeRstStream(V2, 1, 5), '80 02 00 03 00 00 00 08 00 00 00 01 00 00 00 05');
    same(encodeRstStream(V3, 0x7fff_ffff, 11), '80 03 00 03 00 00 00 08 7f ff ff ff 00 00 00 0b');
  });

  test('encodeSettings writes the docs/spdy-protocol.md §14 v3 SETTINGS MAX_CONCURRENT_STREAMS=100', () => {
    same(encodeSettings(V3, [{ id: 4, flags: 0, value: 100 }]), '80 03 00 04 00 00 00 0c 00 00 00 01 00 00 00 04 00 00 00 64');
  });

  test('encodeSettings writes the docs/spdy-protocol.md §14 v2 SETTINGS MAX_CONCURRENT_STREAMS=100 with its little-endian id', () => {
    same(encodeSettings(V2, [{ id: 4, flags: 0, value: 100 }]), '80 02 00 04 00 00 00 0c 00 00 00 01 04 00 00 00 00 00 00 64');
  });

  test("encodeSettings writes node-spdy's docs/spdy-protocol.md §14 SETTINGS byte for byte in v3 and v2", () => {
    same(encodeSettings(V3, [{ id: 7, flags: 1, value: 0x10_0000 }]), '80 03 00 04 00 00 00 0c 00 00 00 01 01 00 00 07 00 10 00 00');
    same(encodeSettings(V2, [{ id: 7, flags: 1, value: 0x10_0000 }]), '80 02 00 04 00 00 00 0c 00 00 00 01 07 00 00 01 00 10 00 00');
  });

  test('encodeSettings writes CLEAR_SETTINGS, several entries and all 24 id bits', () => {
    const entries = [
      { id: 4, flags: 0, value: 1000 },
      { id: 0x03_0201, flags: 2, value: 0xffff_ffff },
    ];
    same(encodeSettings(V3, entries, true), '80 03 00 04 | 01 00 00 14 | 00 00 00 02 | 00 00 00 04 00 00 03 e8 | 02 03 02 01 ff ff ff ff');
    same(encodeSettings(V2, entries, true), '80 02 00 04 | 01 00 00 14 | 00 00 00 02 | 04 00 00 00 00 00 03 e8 | 01 02 03 02 ff ff ff ff');
  });

  test('encodeSettings writes an empty SETTINGS', () => {
    same(encodeSettings(V31, []), '80 03 00 04 00 00 00 04 00 00 00 00');
  });

  test('encodeSettings writes entry flags with the top bit set (the flags field is 8 bits)', () => {
    same(encodeSettings(V3, [{ id: 4, flags: 0x80, value: 1 }]), '80 03 00 04 00 00 00 0c 00 00 00 01 80 00 00 04 00 00 00 01');
    same(encodeSettings(V2, [{ id: 4, flags: 0x80, value: 1 }]), '80 02 00 04 00 00 00 0c 00 00 00 01 04 00 00 80 00 00 00 01');
  });

  test('encodeNoop writes the docs/spdy-protocol.md §14 v2 NOOP', () => {
    same(encodeNoop(V2), '80 02 00 05 00 00 00 00');
  });

  test('encodePing writes the docs/spdy-protocol.md §14 v3 PING id=1, its v2 form and a 32-bit unsigned id', () => {
    same(encodePing(V3, 1), '80 03 00 06 00 00 00 04 00 00 00 01');
    same(encodePing(V31, 1), '80 03 00 06 00 00 00 04 00 00 00 01');
    same(encodePing(V2, 1), '80 02 00 06 00 00 00 04 00 00 00 01');
    same(encodePing(V3, 0xffff_fffe), '80 03 00 06 00 00 00 04 ff ff ff fe');
  });

  test('encodeGoaway writes the docs/spdy-protocol.md §14 v2 GOAWAY of 4 bytes, leaving the status out', () => {
    same(encodeGoaway(V2, 0, 0), '80 02 00 07 00 00 00 04 00 00 00 00');
    same(encodeGoaway(V2, 5, 1), '80 02 00 07 00 00 00 04 00 00 00 05');
  });

  test('encodeGoaway writes the docs/spdy-protocol.md §14 v3 GOAWAY of 8 bytes with its status', () => {
    same(encodeGoaway(V3, 1, 0), '80 03 00 07 00 00 00 08 00 00 00 01 00 00 00 00');
    same(encodeGoaway(V31, 9, 2), '80 03 00 07 00 00 00 08 00 00 00 09 00 00 00 02');
  });

  test('encodeWindowUpdate writes the docs/spdy-protocol.md §14 v3 WINDOW_UPDATE s=0 +983040', () => {
    same(encodeWindowUpdate(V31, 0, 983_040), '80 03 00 09 00 00 00 08 00 00 00 00 00 0f 00 00');
    same(encodeWindowUpdate(V3, 1, 0x7fff_ffff), '80 03 00 09 00 00 00 08 00 00 00 01 7f ff ff ff');
  });

  test('encodeWindowUpdate writes a v2 WINDOW_UPDATE for node-spdy peers', () => {
    same(encodeWindowUpdate(V2, 1, 65_536), '80 02 00 09 00 00 00 08 00 00 00 01 00 01 00 00');
  });

  test('encodeDataHeader writes the header of the docs/spdy-protocol.md §14 DATA s=1 FIN "hi"', () => {
    same(Buffer.concat([encodeDataHeader(1, 2, true), Buffer.from('hi')]), '00 00 00 01 01 00 00 02 68 69');
  });

  test('encodeDataHeader writes a DATA header without FIN and with a 24-bit length', () => {
    same(encodeDataHeader(3, 0xff_ffff, false), '00 00 00 03 00 ff ff ff');
    same(encodeDataHeader(0x7fff_ffff, 0, true), '7f ff ff ff 01 00 00 00');
  });

  test('encoders clear the reserved bit of stream ids', () => {
    same(encodeRstStream(V3, 0x8000_0001, 5), '80 03 00 03 00 00 00 08 00 00 00 01 00 00 00 05');
    same(encodeDataHeader(0x8000_0001, 2, true), '00 00 00 01 01 00 00 02');
    same(encodeWindowUpdate(V3, 0x8000_0001, 0x8000_0010), '80 03 00 09 00 00 00 08 00 00 00 01 00 00 00 10');
  });
});

describe('frame encoders: round trips through the decoder', () => {
  for (const version of ALL_VERSIONS) {
    describe(version.alpn, () => {
      const maxPriority = version.wire === 2 ? 3 : 7;

      test('a SYN_STREAM decodes to the fields it was encoded from, at every priority', () => {
        for (let priority = 0; priority <= maxPriority; priority++) {
          const frame = encodeSynStream(version, { streamId: 2 * priority + 1, associatedStreamId: priority, priority, fin: priority % 2 === 0, unidirectional: priority % 3 === 0 }, BLOCK);
          roundTrips(version, frame, [
            control({
              type: 1,
              streamId: 2 * priority + 1,
              associatedStreamId: priority,
              priority,
              slot: 0,
              fin: priority % 2 === 0,
              unidirectional: priority % 3 === 0,
              headerBlock: BLOCK.toString('hex'),
            }),
          ]);
        }
      });

      test('SYN_REPLY and HEADERS decode to their stream, FIN and header block', () => {
        roundTrips(version, encodeSynReply(version, 1, true, BLOCK), [control({ type: 2, streamId: 1, fin: true, headerBlock: BLOCK.toString('hex') })]);
        roundTrips(version, encodeHeaders(version, 7, false, BLOCK), [control({ type: 8, streamId: 7, fin: false, headerBlock: BLOCK.toString('hex') })]);
      });

      test('RST_STREAM, PING, GOAWAY and WINDOW_UPDATE decode to what was encoded', () => {
        roundTrips(version, encodeRstStream(version, 3, 7), [control({ type: 3, streamId: 3, status: 7 })]);
        roundTrips(version, encodePing(version, 0xffff_ffff), [control({ type: 6, id: 0xffff_ffff })]);
        roundTrips(version, encodeGoaway(version, 11, 2), [control({ type: 7, lastGoodStreamId: 11, status: version.wire === 2 ? undefined : 2 })]);
        roundTrips(version, encodeWindowUpdate(version, 5, 12_345), [control({ type: 9, streamId: 5, delta: 12_345 })]);
      });

      test('SETTINGS decodes to its entries and CLEAR_SETTINGS flag', () => {
        const entries = [
          { id: 4, flags: 0, value: 100 },
          { id: 7, flags: 1, value: 0x10_0000 },
          { id: 0xff_ffff, flags: 2, value: 0xffff_ffff },
        ];
        roundTrips(version, encodeSettings(version, entries, true), [control({ type: 4, clearSettings: true, entries })]);
        roundTrips(version, encodeSettings(version, []), [control({ type: 4, clearSettings: false, entries: [] })]);
      });

      test('a DATA header and its payload decode to the payload and FIN', () => {
        const payload = Buffer.from('hello, spdy');
        roundTrips(version, Buffer.concat([encodeDataHeader(9, payload.length, true), payload]), [data(9, 'hello, spdy', true)]);
        roundTrips(version, encodeDataHeader(9, 0, true), [data(9, '', true)]);
      });
    });
  }

  test('a v2 NOOP decodes to a NOOP', () => {
    roundTrips(V2, encodeNoop(V2), [control({ type: 5 })]);
  });

  test('a whole encoded conversation decodes in order', () => {
    for (const version of ALL_VERSIONS) {
      const frames = Buffer.concat([
        encodeSettings(version, [{ id: 4, flags: 0, value: 100 }]),
        encodeSynReply(version, 1, false, BLOCK),
        encodeDataHeader(1, 3, false),
        Buffer.from('abc'),
        encodePing(version, 2),
        encodeDataHeader(1, 0, true),
        encodeGoaway(version, 1, 0),
      ]);
      roundTrips(version, frames, [
        control({ type: 4, clearSettings: false, entries: [{ id: 4, flags: 0, value: 100 }] }),
        control({ type: 2, streamId: 1, fin: false, headerBlock: BLOCK.toString('hex') }),
        data(1, 'abc', false),
        control({ type: 6, id: 2 }),
        data(1, '', true),
        control({ type: 7, lastGoodStreamId: 1, status: version.wire === 2 ? undefined : 0 }),
      ]);
    }
  });
});
