// Uploads for the fuzzer: a SYN_STREAM declaring a content-length (a valid one, one that is not
// digits, the same one twice, two that differ, or none) and the DATA that follows it, adding up
// to exactly, less than or more than it declared, ending with FIN on DATA, on the SYN_STREAM
// itself, on HEADERS, with RST_STREAM or not at all: what src/spdy/body-length.ts enforces.

import { RstStatus } from '../../src/spdy/constants.ts';
import { encodeDataHeader, encodeHeaders, encodeRstStream } from '../../src/spdy/frame-encoder.ts';
import { encodeHeaderBlock } from '../../src/spdy/header-block.ts';
import type { FrameContext } from './frame-generator.ts';

const DECLARED = [0, 1, 10, 100, 1000, 20_000];
const NOT_LENGTHS = ['x', '-1', '1e3', ' 10', '10 ', '+10', '0x10', '', '1'.repeat(16), '\u0661\u0660', '10,10', '9'.repeat(15)];
const FORMS = ['valid', 'valid', 'valid', 'not-digits', 'repeated', 'differing', 'twice-as-pairs', 'none'] as const;
const ENDS = ['exact', 'exact', 'short', 'long', 'fin-on-syn', 'trailers-fin', 'open', 'reset', 'data-after-fin'] as const;

/** The frames of one upload on a new stream. */
export function upload(context: FrameContext): Buffer[] {
  const { version: v, dice, ids } = context;
  const id = ids.next;
  ids.next += 2;
  const declared = dice.pick(DECLARED);
  const headers = context.requestHeaders();
  headers[1] = dice.pick(['POST', 'PUT', 'POST']);
  headers[3] = dice.chance(0.8) ? '/upload?format=json' : '/bytes?n=10'; // (an app that does not read the body)
  const form = dice.pick(FORMS);
  switch (form) {
    case 'valid':
      headers.push('content-length', String(declared));
      break;
    case 'not-digits':
      headers.push('content-length', dice.pick(NOT_LENGTHS));
      break;
    case 'repeated': // one name, NUL-separated values: two content-lengths
      headers.push('content-length', `${declared}\0${declared}`);
      break;
    case 'differing':
      headers.push('content-length', `${declared}\0${declared + 1 + dice.int(10)}`);
      break;
    case 'twice-as-pairs': // the name twice in one block: a stream error of its own
      headers.push('content-length', String(declared), 'content-length', String(declared));
      break;
    case 'none':
      break;
  }
  const end = dice.pick(ENDS);
  const frames = [context.synStream(id, encodeHeaderBlock(v, headers), end === 'fin-on-syn')];
  if (end === 'fin-on-syn') return frames;
  const total = end === 'short' ? dice.int(Math.max(1, declared)) : end === 'long' ? declared + 1 + dice.int(100) : declared;
  const fin = end !== 'open' && end !== 'reset' && end !== 'trailers-fin';
  frames.push(...data(context, id, total, fin && dice.chance(0.8)));
  if (fin && !isFin(frames[frames.length - 1])) frames.push(encodeDataHeader(id, 0, true)); // an empty DATA carries the FIN
  if (end === 'trailers-fin') frames.push(encodeHeaders(v, id, true, context.compress(encodeHeaderBlock(v, ['x-trailer', 'done']))));
  if (end === 'reset') frames.push(encodeRstStream(v, id, RstStatus.CANCEL));
  if (end === 'data-after-fin') frames.push(...data(context, id, 1 + dice.int(20), dice.chance(0.5)));
  return frames;
}

/** `total` bytes of DATA on `id` in one to four frames, FIN on the last if `fin`. */
function data(context: FrameContext, id: number, total: number, fin: boolean): Buffer[] {
  const { dice } = context;
  const pieces = 1 + dice.int(4);
  const frames: Buffer[] = [];
  let left = total;
  for (let i = 0; i < pieces && (left > 0 || i === 0); i++) {
    const last = i === pieces - 1;
    const length = last ? left : dice.int(left + 1);
    left -= length;
    if (last || left === 0) {
      frames.push(Buffer.concat([encodeDataHeader(id, length, fin), Buffer.alloc(length, 0x62)]));
      return frames;
    }
    frames.push(Buffer.concat([encodeDataHeader(id, length, false), Buffer.alloc(length, 0x62)]));
  }
  return frames;
}

function isFin(frame: Buffer): boolean {
  return (frame[0] & 0x80) === 0 && (frame[4] & 0x01) !== 0;
}
