// The fuzzer's frame source: seeded and reproducible. For one connection at a time it builds a
// client's frames of every type for one SPDY version, SYN_STREAMs and HEADERS with real header
// blocks compressed by the connection's own deflater (so the server's inflater stays in step
// unless a mutation breaks it on purpose), then mutates some of them: header-block bytes before
// compression, and bytes, lengths, flags, versions, stream ids and frame ends after it.
// The same (version, seed) always yields the same bytes, split at the same points.

import { HeaderDeflater } from '../../src/spdy/compression.ts';
import { FrameType } from '../../src/spdy/constants.ts';
import {
  encodeDataHeader,
  encodeGoaway,
  encodeHeaders,
  encodePing,
  encodeRstStream,
  encodeSettings,
  encodeSynStream,
  encodeWindowUpdate,
} from '../../src/spdy/frame-encoder.ts';
import { encodeHeaderBlock } from '../../src/spdy/header-block.ts';
import type { SpdyVersion } from '../../src/spdy/versions.ts';
import { prng } from '../spdy/harness.ts';

/** Paths the test app answers without throwing, and targets spry must refuse. */
const PATHS = ['/', '/bytes?n=64', '/bytes?n=70000', '/headers.json', '/environ.json', '/status/204', '/status/404', '/slow?ms=5', '/nope', '/upload'];
const BAD_TARGETS = ['http://x', 'x', '/a b', '/a\x7fb', '/a\xffb', '*', '', '/a\r\nb'];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'OPTIONS', 'DELETE', 'get', 'G T', ''];
/** Frames a session must live through (some are stream errors), and those that may end it. */
const BODY_KINDS = ['syn', 'syn', 'syn', 'syn', 'data', 'data', 'rst', 'settings', 'ping', 'window', 'headers', 'noop', 'credential', 'unknown'] as const;
const TAIL_KINDS = ['mutated', 'mutated', 'mutated', 'syn-garbled', 'syn-out-of-order', 'data-stream-0', 'rst-status-0', 'goaway'] as const;
type FrameKind = (typeof BODY_KINDS)[number] | Exclude<(typeof TAIL_KINDS)[number], 'mutated'>;
/** Mutated frames at the end of a connection, at most. */
const MAX_TAIL_FRAMES = 4;

export interface ConnectionPlan {
  /** The bytes to send, in the chunks to send them in (the split points are part of the seed). */
  readonly chunks: Buffer[];
  /** How many frames the chunks hold. */
  readonly frames: number;
}

export class FrameGenerator {
  readonly version: SpdyVersion;
  private readonly random: () => number;

  constructor(version: SpdyVersion, seed: number) {
    this.version = version;
    this.random = prng(seed);
  }

  /**
   * The frames of one fresh connection (its own compression context), at most `maxFrames`. The
   * body is frames a session must survive (valid ones, and stream errors: bad request heads,
   * DATA on unknown streams, zero deltas, odd settings); the last few are mutated ones that may
   * end the session (lying lengths, broken blocks, flipped bytes, stream ids out of order),
   * so that nearly every frame is read by a live session and every connection also tries an end.
   */
  connection(maxFrames: number): ConnectionPlan {
    const deflater = new HeaderDeflater(this.version.dictionary);
    const frames: Buffer[] = [];
    const tail = this.int(MAX_TAIL_FRAMES + 1);
    const body = Math.max(1, 1 + this.int(maxFrames) - tail);
    const ids = { next: 1 };
    try {
      for (let i = 0; i < body; i++) frames.push(this.frame(this.pick(BODY_KINDS), ids, deflater));
      for (let i = 0; i < tail; i++) {
        const kind = this.pick(TAIL_KINDS);
        frames.push(kind === 'mutated' ? this.mutate(this.frame(this.pick(BODY_KINDS), ids, deflater)) : this.frame(kind, ids, deflater));
      }
    } finally {
      deflater.close();
    }
    return { chunks: this.split(Buffer.concat(frames)), frames: frames.length };
  }

  private frame(kind: FrameKind, ids: { next: number }, deflater: HeaderDeflater): Buffer {
    const v = this.version;
    const compress = (plain: Buffer): Buffer => Buffer.from(deflater.deflate(plain));
    const open = Math.max(1, ids.next - 2); // the last stream opened (or 1)
    switch (kind) {
      case 'syn': {
        // An even id is a stream error; the next odd one opens a stream.
        const id = this.chance(0.03) ? ids.next + 1 : ids.next;
        if (id === ids.next) ids.next += 2;
        return this.synStream(id, encodeHeaderBlock(v, this.requestHeaders()), compress);
      }
      case 'syn-out-of-order': {
        const id = this.pick([open, 0x7fff_ffff, 1 + 2 * this.int(1 << 30)]);
        if (id >= ids.next) ids.next = id + 2;
        return this.synStream(id, encodeHeaderBlock(v, this.requestHeaders()), compress);
      }
      case 'syn-garbled':
        return this.synStream(ids.next, this.garble(encodeHeaderBlock(v, this.requestHeaders())), compress);
      case 'data': {
        const length = this.pick([0, 1, 10, 100, 1000, 16384]);
        return Buffer.concat([encodeDataHeader(this.chance(0.8) ? open : 1 + this.int(1000), length, this.chance(0.5)), Buffer.alloc(length, 0x61)]);
      }
      case 'data-stream-0':
        return encodeDataHeader(0, 0, true);
      case 'rst':
        return encodeRstStream(v, this.chance(0.8) ? open : 1 + this.int(1000), 1 + this.int(13));
      case 'rst-status-0':
        return encodeRstStream(v, open, 0);
      case 'settings':
        return encodeSettings(v, Array.from({ length: this.int(5) }, () => ({ id: this.int(11), flags: this.int(4), value: this.pick([0, 1, 100, 65535, 1 << 20, 0x7fff_ffff]) })));
      case 'ping':
        return encodePing(v, this.int(2 ** 32));
      case 'window': {
        // (A zero delta is a stream error on a stream, a session error on stream 0: tail only.)
        const id = this.chance(0.1) ? 0 : this.chance(0.8) ? open : 1 + this.int(1000);
        return encodeWindowUpdate(v, id, this.pick([1, 1000, 65536, 0x7fff_ffff, ...(id !== 0 && this.chance(0.5) ? [0] : [])]));
      }
      case 'headers':
        return encodeHeaders(v, open, this.chance(0.5), compress(encodeHeaderBlock(v, ['x-trailer', 'v', 'x-other', String(this.int(1000))])));
      case 'noop':
        return control(v.wire, FrameType.NOOP, 0, Buffer.alloc(0));
      case 'credential':
        return control(v.wire, FrameType.CREDENTIAL, 0, Buffer.alloc(6 + this.int(40)));
      case 'unknown':
        return control(v.wire, 11 + this.int(100), this.int(256), Buffer.alloc(this.int(64)));
      case 'goaway':
        return encodeGoaway(v, this.int(100), this.int(3));
    }
  }

  private synStream(id: number, plain: Buffer, compress: (plain: Buffer) => Buffer): Buffer {
    const flags = { associatedStreamId: this.chance(0.03) ? 1 + this.int(8) : 0, priority: this.int(8), fin: this.chance(0.7), unidirectional: this.chance(0.03) };
    return encodeSynStream(this.version, { streamId: id, ...flags }, compress(plain));
  }

  /** A request's headers: mostly well-formed, sometimes a bad target, method, host or value. */
  private requestHeaders(): string[] {
    const n = this.version.headers;
    const path = this.chance(0.85) ? this.pick(PATHS) : this.pick(BAD_TARGETS);
    const headers = [n.method, this.chance(0.9) ? this.pick(METHODS.slice(0, 5)) : this.pick(METHODS), n.path, path, n.version, 'HTTP/1.1', n.host, this.chance(0.95) ? 'localhost' : this.pick(['a b', 'u@x', 'x:y', '[::1]:1', '']), n.scheme, 'https'];
    if (this.chance(0.1)) headers.splice(2 * this.int(5), 2); // a reserved header missing
    if (this.chance(0.3)) headers.push('content-length', this.pick(['0', '10', 'x', '-1', '99999999999']));
    if (this.chance(0.2)) headers.push('x-fuzz', this.pick(['v', 'a\0b', 'a\r\nb', '\0', 'x'.repeat(3000)]));
    return headers;
  }

  /** A header block with a few bytes changed before compression (lengths, counts, NULs). */
  private garble(plain: Buffer): Buffer {
    const out = Buffer.from(plain);
    for (let i = 1 + this.int(3); i > 0; i--) out[this.int(out.length)] = this.pick([0, 0xff, 0x3a, 0x20, 0x41, 0x0a, this.int(256)]);
    return this.chance(0.2) ? out.subarray(0, this.int(out.length)) : out;
  }

  /** One raw change to a whole frame: a byte, the length, the flags, the version, the end. */
  private mutate(frame: Buffer): Buffer {
    const out = Buffer.from(frame);
    switch (this.int(6)) {
      case 0:
        out[this.int(out.length)] ^= 1 << this.int(8);
        return out;
      case 1: // a length that lies, within reason (a 16 MiB claim would only wait for bytes)
        out.writeUIntBE(Math.max(0, out.readUIntBE(5, 3) + this.pick([-8, -4, -1, 1, 4, 8, 100])), 5, 3);
        return out;
      case 2:
        out[4] = this.int(256);
        return out;
      case 3:
        if (out[0] & 0x80) out.writeUInt16BE(0x8000 | this.pick([1, 2, 3, 4, 0x7fff]), 0);
        return out;
      case 4:
        return out.subarray(0, this.int(out.length));
      default:
        return Buffer.concat([out, Buffer.alloc(this.int(16), this.int(256))]);
    }
  }

  /** Cuts the bytes at random points: single bytes, small pieces, whole runs. */
  private split(bytes: Buffer): Buffer[] {
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; ) {
      const size = this.pick([1, 7, 64, 1000, 16384, 65536]);
      chunks.push(bytes.subarray(at, at + size));
      at += size;
    }
    return chunks;
  }

  private int(below: number): number {
    return Math.floor(this.random() * below);
  }

  private chance(p: number): boolean {
    return this.random() < p;
  }

  private pick<T>(from: readonly T[]): T {
    return from[this.int(from.length)];
  }
}

/** A control frame of any type, flags and payload (the encoder builds only the known ones). */
function control(wire: number, type: number, flags: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16BE(0x8000 | wire, 0);
  header.writeUInt16BE(type, 2);
  header[4] = flags;
  header.writeUIntBE(payload.length, 5, 3);
  return Buffer.concat([header, payload]);
}
