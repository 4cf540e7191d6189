// Header blocks for the fuzzer that inflate cleanly (the shared compression context stays whole)
// but go wrong in what they hold: one bad pair in the middle of good ones (a stream error: the
// session must go on), damage to the block's structure (counts and lengths that run past its end,
// bytes after its last pair: a session error), and a small block that inflates past the limit.

import { encodeHeaderBlock } from '../../src/spdy/header-block.ts';
import type { FrameContext } from './frame-generator.ts';

/** Past this many names the block reader looks duplicates up in a set rather than scanning. */
const MANY_NAMES = 40;
/** The header count limit's default (StreamTuning.maxHeaderCount). */
const HEADER_COUNT_LIMIT = 256;

/** A request's headers with one bad pair, or a bad repetition, somewhere among them. */
export function badPairs(context: FrameContext): string[] {
  const { dice, version } = context;
  const headers = context.requestHeaders();
  const n = version.headers;
  const bad = dice.pick<() => string[]>([
    () => ['X-Upper', 'v'],
    () => [':odd', 'v'],
    () => ['a b', 'v'],
    () => ['a:b', 'v'],
    () => ['', 'v'],
    () => ['x-empty', ''],
    () => ['x-nul', 'a\0\0b'],
    () => ['x-nul', '\0a'],
    () => ['x-nul', 'a\0'],
    () => ['x-cr', 'a\rb'],
    () => ['x-lf', 'a\nb'],
    () => ['x-del', 'a\x7fb'],
    () => [n.host, 'localhost'], // a reserved name twice
    () => ['user-agent', `fuzz/${dice.int(3)}`, 'user-agent', 'again'], // a known name twice, its remembered value in play
    () => [...manyNames(MANY_NAMES), 'x-name-3', 'again'], // a duplicate found through the set
    () => manyNames(HEADER_COUNT_LIMIT + 1 - headers.length / 2),
    () => [n.method, 'GET\0POST'],
    () => [n.path, '/\0/'],
  ])();
  const at = 2 * dice.int(headers.length / 2 + 1);
  headers.splice(at, 0, ...bad);
  // Good pairs after the bad one: the reader must walk past it to the block's end.
  headers.push('accept', '*/*', 'x-after', String(dice.int(1000)));
  return headers;
}

function manyNames(count: number): string[] {
  const names: string[] = [];
  for (let i = 0; i < count; i++) names.push(`x-name-${i}`, 'v');
  return names;
}

/** `plain` (a whole block) with its structure broken: the count, a length, its end. */
export function structuralDamage(context: FrameContext, plain: Buffer): Buffer {
  const { dice, version } = context;
  const width = version.nvLengthBytes;
  const out = Buffer.from(plain);
  const writeLength = (at: number, n: number): void => {
    if (width === 4) out.writeUInt32BE(n >>> 0, at);
    else out.writeUInt16BE(n & 0xffff, at);
  };
  const count = width === 4 ? out.readUInt32BE(0) : out.readUInt16BE(0);
  switch (dice.int(6)) {
    case 0: // more pairs promised than there are
      writeLength(0, count + 1 + dice.int(3));
      return out;
    case 1: // fewer: bytes follow the last pair
      writeLength(0, Math.max(0, count - 1));
      return out;
    case 2: // the first name's length runs past the block
      writeLength(width, out.length);
      return out;
    case 3: // a negative length (v3) or a huge one (v2)
      writeLength(width, 0x8000_0000 | dice.int(100));
      return out;
    case 4: // cut inside a length or a value
      return out.subarray(0, width + 1 + dice.int(out.length - width - 1));
    default:
      return Buffer.concat([out, Buffer.alloc(1 + dice.int(width), 0)]);
  }
}

/** A few KiB compressed, a MiB and more inflated. */
export function blockBomb(context: FrameContext): Buffer {
  const headers = context.requestHeaders();
  for (let i = 0; i < 20; i++) headers.push(`x-bomb-${i}`, 'a'.repeat(60_000));
  return encodeHeaderBlock(context.version, headers);
}
