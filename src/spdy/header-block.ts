// The uncompressed SPDY name/value block (docs/spdy-protocol.md §4): a pair count, then length-prefixed names and
// values; lengths are 16 bits in v2 and 32 bits in v3. A value may hold several values
// separated by NUL. Names are lower case and unique within a block.
//
// Headers travel as a flat list `[name0, value0, name1, value1, …]` (like Node's rawHeaders),
// decoded as latin1 as Node's HTTP parser does.

import { checkFieldName, checkFieldValue, forbiddenValueByte, type RequestHeadProblem } from '../exchange/request-validation.ts';
import { RstStatus } from './constants.ts';
import { SpdySessionError, SpdyStreamError } from './protocol-error.ts';
import { requestFieldsProblem } from './request-head.ts';
import type { SpdyVersion } from './versions.ts';

export type FlatHeaders = string[];

export interface HeaderBlockLimits {
  readonly maxHeaderCount: number;
}

/** The same as readHeaderBlock, throwing its fault (for peers and tests that want an exception). */
export function decodeHeaderBlock(version: SpdyVersion, block: Buffer, streamId: number, limits: HeaderBlockLimits): FlatHeaders {
  const result = readHeaderBlock(version, block, streamId, limits);
  if (Array.isArray(result)) return result;
  throw result;
}

/**
 * Parses an inflated block. Structural damage (lengths running past the block, trailing bytes)
 * means the peer's framing cannot be trusted: a session error. Bad names or values are the
 * stream's problem: a stream error (PROTOCOL_ERROR), after the block was fully inflated
 * (docs/spdy-protocol.md §12), and so is a request line that is not one spry accepts (a method
 * that is not a token, a target that is not origin-form, a bad host: docs/request-heads.md §2):
 * the session answers either with RST_STREAM before the app sees the request.
 * Values holding NUL-separated lists come back as one pair per value. The block is `block` up to
 * `end` (an inflater's shared output, read in place). The fault is returned, not
 * thrown: a flood of bad requests would otherwise pay for a throw and its unwinding each.
 */
export function readHeaderBlock(version: SpdyVersion, block: Buffer, streamId: number, limits: HeaderBlockLimits, end = block.length): FlatHeaders | SpdyStreamError | SpdySessionError {
  const width = version.nvLengthBytes;
  const count = readLength(block, 0, width, end);
  if (count < 0) return structural(lengthFault(count, 'pair count'));
  if (count > limits.maxHeaderCount) {
    // FRAME_TOO_LARGE is v3's; v2 has nothing closer than PROTOCOL_ERROR.
    const status = version.maxRstStatus >= RstStatus.FRAME_TOO_LARGE ? RstStatus.FRAME_TOO_LARGE : RstStatus.PROTOCOL_ERROR;
    return new SpdyStreamError('SPRY_ERR_SPDY_TOO_MANY_HEADERS', streamId, status, `header block has ${count} pairs (limit ${limits.maxHeaderCount})`);
  }
  const out: FlatHeaders = [];
  let seen: Set<string> | undefined;
  let problem: string | RequestHeadProblem | undefined;
  const nameRules = version.headers.method.charCodeAt(0) === 0x3a /* : */ ? V3_NAMES : V2_NAMES;
  let o = width;
  for (let i = 0; i < count; i++) {
    const nameLength = readLength(block, o, width, end);
    if (nameLength < 0) return structural(lengthFault(nameLength, 'name'));
    o += width;
    if (nameLength > end - o) return structural('a header name runs past the block');
    const nameStart = o;
    o += nameLength;
    const valueLength = readLength(block, o, width, end);
    if (valueLength < 0) return structural(lengthFault(valueLength, 'value'));
    o += width;
    if (valueLength > end - o) return structural('a header value runs past the block');
    const valueStart = o;
    o += valueLength;
    if (problem !== undefined) continue; // keep walking: structural damage later outranks it

    const known = knownName(block, nameStart, nameLength);
    let name: string;
    if (known !== undefined) {
      name = known.name;
    } else {
      name = block.toString('latin1', nameStart, nameStart + nameLength);
      problem = checkFieldName(name, nameRules);
      if (problem !== undefined) continue;
    }
    // Names are unique within a block (docs/spdy-protocol.md §17.1): a scan while the block is small, a set beyond.
    if (out.length < DUPLICATE_SCAN_LIMIT) {
      if (appearsIn(out, name)) {
        problem = `header ${name} appears twice`;
        continue;
      }
    } else {
      if (seen === undefined) {
        seen = new Set();
        for (let k = 0; k < out.length; k += 2) seen.add(out[k]);
      }
      if (seen.has(name)) {
        problem = `header ${name} appears twice`;
        continue;
      }
      seen.add(name);
    }
    if (valueLength === 0) {
      if (!version.allowsEmptyValue) problem = `header ${name} has an empty value`;
      else out.push(name, '');
      continue;
    }
    // The value this name had last time, if the bytes are the same (it passed the checks then).
    const last = known?.lastValue;
    if (last !== undefined && sameBytes(block, valueStart, valueLength, last)) {
      out.push(name, last);
      continue;
    }
    const value = block.toString('latin1', valueStart, o);
    const forbidden = forbiddenValueByte(block, valueStart, o);
    if (forbidden < 0) {
      if (known !== undefined && valueLength <= REMEMBERED_VALUE_BYTES) known.lastValue = value;
      out.push(name, value);
      continue;
    }
    if (block[forbidden] !== 0) {
      problem = checkFieldValue(name, value); // CR or LF: never a separator
      continue;
    }
    const parts = value.split('\0');
    if (parts.some((part: string) => part.length === 0)) {
      problem = `header ${name} has an empty value between NULs`;
      continue;
    }
    for (const part of parts) {
      problem ??= checkFieldValue(name, part);
      out.push(name, part);
    }
  }
  if (o !== end) return structural(`${end - o} bytes follow the last header pair`);
  problem ??= requestFieldsProblem(version, out);
  if (typeof problem === 'string') return new SpdyStreamError('SPRY_ERR_SPDY_BAD_HEADER_BLOCK', streamId, RstStatus.PROTOCOL_ERROR, problem);
  if (problem !== undefined) return new SpdyStreamError(problem.code, streamId, RstStatus.PROTOCOL_ERROR, problem);
  return out;
}

/** v3's reserved names begin with `:` (docs/spdy-protocol.md §4.2); v2's are plain tokens. */
const V3_NAMES = { lowerCase: true, pseudo: true };
const V2_NAMES = { lowerCase: true, pseudo: false };

/** The block ends inside a length, or (v3) a length is negative: readLength's faults. */
const CUT_SHORT = -1;
const NEGATIVE = -2;

/** The 16- or 32-bit length at `at` (the block ends at `end`), or CUT_SHORT / NEGATIVE. */
function readLength(block: Buffer, at: number, width: number, end: number): number {
  if (at + width > end) return CUT_SHORT;
  if (width === 2) return (block[at] << 8) | block[at + 1];
  const n = block[at] * 0x100_0000 + ((block[at + 1] << 16) | (block[at + 2] << 8) | block[at + 3]);
  return n > 0x7fff_ffff ? NEGATIVE : n;
}

function lengthFault(fault: number, what: string): string {
  return fault === CUT_SHORT ? `header block ends inside a ${what} length` : `header block has a negative ${what} length`;
}

/** Below this many names (twice as many entries), duplicates are found by scanning what is decoded. */
const DUPLICATE_SCAN_LIMIT = 32;

function appearsIn(out: FlatHeaders, name: string): boolean {
  for (let k = 0; k < out.length; k += 2) if (out[k] === name) return true;
  return false;
}

/**
 * The names most requests carry, matched against the block's bytes so that the same string is
 * reused rather than a new one made for every request (they are valid names, so unchecked).
 * Each also remembers the last value it had (any session's: strings are immutable), which most
 * requests repeat (`GET`, `HTTP/1.1`, the host, the user agent): matched against the bytes too.
 */
const KNOWN_NAMES = [
  ':method', ':path', ':version', ':host', ':scheme', 'method', 'url', 'version', 'host', 'scheme',
  'accept', 'accept-encoding', 'accept-language', 'accept-charset', 'authorization', 'cache-control',
  'content-length', 'content-type', 'cookie', 'dnt', 'if-modified-since', 'if-none-match', 'origin',
  'pragma', 'range', 'referer', 'upgrade-insecure-requests', 'user-agent', 'x-forwarded-for',
  'x-forwarded-proto', 'x-requested-with',
  // What responses carry (a client decoding replies).
  ':status', 'status', 'date', 'etag', 'expires', 'last-modified', 'location', 'server', 'set-cookie',
  'vary', 'content-encoding',
];

interface KnownName {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** The last value that passed the checks under this name (at most REMEMBERED_VALUE_BYTES long). */
  lastValue: string | undefined;
}

/** Longer values (cookies, say) are rarely repeated byte for byte, and comparing them costs. */
const REMEMBERED_VALUE_BYTES = 256;

/** KNOWN_NAMES by length. */
const KNOWN_BY_LENGTH: KnownName[][] = [];
for (const name of KNOWN_NAMES) (KNOWN_BY_LENGTH[name.length] ??= []).push({ name, bytes: Buffer.from(name, 'latin1'), lastValue: undefined });

function knownName(block: Buffer, start: number, length: number): KnownName | undefined {
  const candidates = KNOWN_BY_LENGTH[length];
  if (candidates === undefined) return undefined;
  next: for (const candidate of candidates) {
    const bytes = candidate.bytes;
    for (let i = 0; i < length; i++) if (block[start + i] !== bytes[i]) continue next;
    return candidate;
  }
  return undefined;
}

/** True if the `length` bytes at `start` are `text`'s (latin1). */
function sameBytes(block: Buffer, start: number, length: number, text: string): boolean {
  if (text.length !== length) return false;
  for (let i = 0; i < length; i++) if (block[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

function structural(message: string): SpdySessionError {
  return new SpdySessionError('SPRY_ERR_SPDY_BAD_HEADER_BLOCK', message);
}

/**
 * Builds an uncompressed block from a flat list whose names are already lower case and unique
 * (join repeated values with NUL before calling).
 */
export function encodeHeaderBlock(version: SpdyVersion, headers: FlatHeaders): Buffer {
  const width = version.nvLengthBytes;
  let size = width;
  for (let i = 0; i < headers.length; i++) size += width + headers[i].length;
  const block = Buffer.allocUnsafe(size);
  let o = writeLength(block, 0, width, headers.length >>> 1);
  for (let i = 0; i < headers.length; i++) {
    const text = headers[i];
    o = writeLength(block, o, width, text.length);
    o += block.write(text, o, 'latin1');
  }
  return block;
}

function writeLength(block: Buffer, at: number, width: number, n: number): number {
  if (width === 4) block.writeUInt32BE(n, at);
  else block.writeUInt16BE(n, at);
  return at + width;
}
