// The uwsgi packet (router → worker): a 4-byte header — modifier1 (u8), datasize (u16,
// little-endian: the size of the vars block), modifier2 (u8) — then the vars block, repeated
// `key_len (u16 LE), key, val_len (u16 LE), value`, then the request body, raw.
// See docs/uwsgi-wire.md. Keys and values travel as bytes; we read and write
// them as latin1, as the environment holds them.

import { SpryError } from '../errors.ts';

export const UWSGI_HEADER_BYTES = 4;
/** datasize is 16 bits: a larger vars block cannot be expressed (Apache's CVE-2020-11984 was an unchecked one). */
export const MAX_VARS_BYTES = 0xffff;
/** modifier1 0: a WSGI/HTTP request whose vars are CGI variables. */
export const MODIFIER1_WSGI = 0;

/** Encodes the header and vars block; the body follows separately. Throws if it cannot fit. */
export function encodeUwsgiRequest(vars: Readonly<Record<string, string>>, modifier1 = MODIFIER1_WSGI, modifier2 = 0): Buffer {
  let size = 0;
  for (const key in vars) {
    const keyBytes = key.length;
    const valueBytes = vars[key].length;
    if (keyBytes > 0xffff || valueBytes > 0xffff) throw tooLarge(`the variable ${key.slice(0, 40)} is longer than 65535 bytes`);
    size += 4 + keyBytes + valueBytes;
  }
  if (size > MAX_VARS_BYTES) throw tooLarge(`the request's variables take ${size} bytes; the uwsgi protocol carries at most ${MAX_VARS_BYTES}`);
  // The block as one latin1 string, lengths as two chars each, copied into the packet by one
  // write: a copy per key and per value cost a call into C++ each.
  let block = '';
  for (const key in vars) {
    const value = vars[key];
    block += `${lengthChars(key.length)}${key}${lengthChars(value.length)}${value}`;
  }
  const packet = Buffer.allocUnsafe(UWSGI_HEADER_BYTES + size);
  packet[0] = modifier1;
  packet.writeUInt16LE(size, 1);
  packet[3] = modifier2;
  packet.write(block, UWSGI_HEADER_BYTES, 'latin1');
  return packet;
}

/** A u16, little-endian, as two latin1 chars. */
function lengthChars(length: number): string {
  return String.fromCharCode(length & 0xff, length >> 8);
}

function tooLarge(message: string): SpryError {
  return new SpryError('SPRY_ERR_UWSGI_VARS_TOO_LARGE', message);
}

export interface UwsgiRequest {
  readonly modifier1: number;
  readonly modifier2: number;
  readonly vars: Record<string, string>;
}

export type UwsgiDecodeResult =
  | { readonly done: false }
  | { readonly done: true; readonly request: UwsgiRequest; /** Bytes after the vars block: the body's start. */ readonly rest: Buffer };

/**
 * Collects a request's header and vars block from a connection's first chunks. The block is at
 * most 64 KiB by construction, so buffering it is bounded.
 */
export class UwsgiRequestDecoder {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): UwsgiDecodeResult {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const data = this.buffered;
    if (data.length < UWSGI_HEADER_BYTES) return { done: false };
    const size = data.readUInt16LE(1);
    if (data.length < UWSGI_HEADER_BYTES + size) return { done: false };
    const vars = decodeVars(data.subarray(UWSGI_HEADER_BYTES, UWSGI_HEADER_BYTES + size));
    this.buffered = Buffer.alloc(0);
    return { done: true, request: { modifier1: data[0], modifier2: data[3], vars }, rest: data.subarray(UWSGI_HEADER_BYTES + size) };
  }
}

export function decodeVars(block: Buffer): Record<string, string> {
  const vars: Record<string, string> = {};
  let o = 0;
  while (o < block.length) {
    if (o + 2 > block.length) throw malformed('a key length runs past the vars block');
    const keyLength = block.readUInt16LE(o);
    o += 2;
    if (o + keyLength + 2 > block.length) throw malformed('a key runs past the vars block');
    const key = block.toString('latin1', o, o + keyLength);
    o += keyLength;
    const valueLength = block.readUInt16LE(o);
    o += 2;
    if (o + valueLength > block.length) throw malformed(`the value of ${key} runs past the vars block`);
    vars[key] = block.toString('latin1', o, o + valueLength);
    o += valueLength;
  }
  return vars;
}

function malformed(message: string): SpryError {
  return new SpryError('SPRY_ERR_UWSGI_BAD_PACKET', message);
}
