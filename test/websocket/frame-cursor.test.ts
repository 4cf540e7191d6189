// The forwarding relay's FrameCursor finds where WebSocket frames end in bytes it does not
// otherwise read (RFC 6455 §5.2), however the frames are split across chunks: spry's close
// frame on a reload may only go between two frames.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameCursor } from '../../src/upstream/websocket-frames.ts';

function frame(payloadLength: number, masked = false): Buffer {
  const header = payloadLength < 126 ? Buffer.from([0x82, payloadLength]) : payloadLength < 65536 ? Buffer.from([0x82, 126, payloadLength >> 8, payloadLength & 0xff]) : Buffer.concat([Buffer.from([0x82, 127]), Buffer.from(new BigUint64Array([BigInt(payloadLength)]).buffer).reverse()]);
  if (masked) header[1] |= 0x80;
  return Buffer.concat([header, masked ? Buffer.alloc(4, 7) : Buffer.alloc(0), Buffer.alloc(payloadLength, 0x61)]);
}

describe('FrameCursor', () => {
  const stream = Buffer.concat([frame(5), frame(300), frame(70_000), frame(0), frame(10, true)]);
  const ends = [7, 7 + 304, 7 + 304 + 70_010, 7 + 304 + 70_010 + 2, stream.length];

  it('is between frames exactly at each frame\'s end, fed a byte at a time', () => {
    const cursor = new FrameCursor();
    const found: number[] = [];
    for (let i = 0; i < stream.length; i++) {
      cursor.advance(stream.subarray(i, i + 1));
      if (cursor.atBoundary) found.push(i + 1);
    }
    assert.deepEqual(found, ends);
  });

  it('with stopAtBoundary, moves to the end of the frame under way and no further', () => {
    for (const cut of [1, 3, 6, 8, 20, 400, 70_000]) {
      const cursor = new FrameCursor();
      cursor.advance(stream.subarray(0, cut));
      const end = ends.find((e) => e > cut)!;
      assert.equal(cursor.advance(stream.subarray(cut), true), end - cut, `cut at ${cut}`);
      assert.equal(cursor.atBoundary, true);
      assert.equal(cursor.advance(stream.subarray(end), true), 0, 'already between frames');
    }
  });

  it('is between frames only when a header split across chunks has its payload too', () => {
    const cursor = new FrameCursor();
    cursor.advance(frame(300).subarray(0, 3));
    assert.equal(cursor.atBoundary, false);
    cursor.advance(frame(300).subarray(3, 100));
    assert.equal(cursor.atBoundary, false);
    cursor.advance(frame(300).subarray(100));
    assert.equal(cursor.atBoundary, true);
  });
});
