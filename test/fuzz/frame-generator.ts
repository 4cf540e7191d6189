// The fuzzer's frame source: seeded and reproducible. For one connection at a time it builds a
// client's frames of every type for one SPDY version, SYN_STREAMs and HEADERS with real header
// blocks compressed by the connection's own deflater (so the server's inflater stays in step
// unless a mutation breaks it on purpose), then mutates some of them: header-block bytes before
// compression, and bytes, lengths, flags, versions, stream ids and frame ends after it.
// Besides single frames it builds the sequences the session's newer parts read: uploads whose
// DATA adds up to less, more or exactly their content-length (uploads.ts), header blocks that go
// wrong in the middle, bursts of streams opened and reset in one read, and (one connection in
// ten) a control frame cut at every byte boundary, each piece its own read.
// The same (version, seed) always yields the same bytes, split at the same points.

import { HeaderDeflater } from '../../src/spdy/compression.ts';
import { FrameType, RstStatus } from '../../src/spdy/constants.ts';
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
import { Dice } from './dice.ts';
import { badPairs, blockBomb, structuralDamage } from './header-faults.ts';
import { upload } from './uploads.ts';

/** Paths the test app answers without throwing, and targets spry must refuse. */
const PATHS = ['/', '/bytes?n=64', '/bytes?n=70000', '/headers.json', '/environ.json', '/status/204', '/status/404', '/slow?ms=5', '/nope', '/upload', '//', '//x/headers.json'];
const BAD_TARGETS = ['http://x', 'x', '/a b', '/a\x7fb', '/a\xffb', '*', '', '/a\r\nb'];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'OPTIONS', 'DELETE', 'get', 'G T', ''];
/** Frames a session must live through (some are stream errors), and those that may end it. */
const BODY_KINDS = ['syn', 'syn', 'syn', 'syn', 'data', 'data', 'rst', 'settings', 'ping', 'window', 'headers', 'noop', 'credential', 'unknown', 'upload', 'upload', 'upload', 'bad-pairs', 'burst'] as const;
const TAIL_KINDS = ['mutated', 'mutated', 'mutated', 'syn-garbled', 'syn-structural', 'syn-bomb', 'syn-out-of-order', 'data-stream-0', 'rst-status-0', 'goaway'] as const;
type BodyKind = (typeof BODY_KINDS)[number];
type FrameKind = Exclude<BodyKind, 'upload' | 'burst'> | Exclude<(typeof TAIL_KINDS)[number], 'mutated'>;
/** Mutated frames at the end of a connection, at most. */
const MAX_TAIL_FRAMES = 4;
/** Control frames cut at every boundary: these, each cut in two at byte 1, 2, … of its copy. */
const SWEPT_KINDS = ['syn', 'ping', 'settings', 'window', 'rst', 'headers', 'goaway-last'] as const;
/** A swept frame longer than this is cut at its first this-many boundaries only. */
const MAX_SWEEP_CUTS = 300;
/** Streams opened and reset in one burst, at most (one TLS record holds them all). */
const MAX_BURST_STREAMS = 40;
const ONE_RECORD_BYTES = 16_000;

export interface ConnectionPlan {
  /** The bytes to send, in the chunks to send them in (the split points are part of the seed). */
  readonly chunks: Buffer[];
  /** How many frames the chunks hold. */
  readonly frames: number;
  /** Yield to the event loop after every this many chunks, so that the server reads them apart. */
  readonly pauseEvery: number;
}

/** What the generator's helpers (uploads.ts, header-faults.ts) need of one connection. */
export interface FrameContext {
  readonly version: SpdyVersion;
  readonly dice: Dice;
  /** The next odd stream id; whoever opens a stream moves it on by 2. */
  readonly ids: { next: number };
  /** The connection's deflater: every block it compresses must be sent, or the server's inflater falls out of step. */
  compress(plain: Buffer): Buffer;
  synStream(id: number, plain: Buffer, fin: boolean): Buffer;
  /** A well-formed request's headers (before any faults). */
  requestHeaders(): string[];
}

export class FrameGenerator {
  readonly version: SpdyVersion;
  private readonly dice: Dice;

  constructor(version: SpdyVersion, seed: number) {
    this.version = version;
    this.dice = new Dice(seed);
  }

  /**
   * The frames of one fresh connection (its own compression context), at most about `maxFrames`.
   * The body is frames a session must survive (valid ones, and stream errors: bad request heads,
   * DATA on unknown streams, bodies at odds with their content-length, zero deltas, odd settings);
   * the last few are mutated ones that may end the session (lying lengths, broken blocks, flipped
   * bytes, stream ids out of order), so that nearly every frame is read by a live session and
   * every connection also tries an end.
   */
  connection(maxFrames: number): ConnectionPlan {
    const deflater = new HeaderDeflater(this.version.dictionary);
    try {
      const context = this.context(deflater);
      return this.dice.chance(0.1) ? this.sweep(context) : this.mixed(context, maxFrames);
    } finally {
      deflater.close();
    }
  }

  private mixed(context: FrameContext, maxFrames: number): ConnectionPlan {
    const { dice } = this;
    const tail = dice.int(MAX_TAIL_FRAMES + 1);
    const body = Math.max(1, 1 + dice.int(maxFrames) - tail);
    const chunks: Buffer[] = [];
    /** Frames not yet cut into chunks: they are cut at random points. */
    let loose: Buffer[] = [];
    let frames = 0;
    const cutLoose = (): void => {
      if (loose.length > 0) chunks.push(...dice.split(Buffer.concat(loose)));
      loose = [];
    };
    while (frames < body) {
      const kind = dice.pick(BODY_KINDS);
      if (kind === 'burst') {
        // Several streams opened and reset within one read.
        const burst = this.burst(context);
        cutLoose();
        chunks.push(Buffer.concat(burst));
        frames += burst.length;
        continue;
      }
      const made = kind === 'upload' ? upload(context) : [this.frame(kind, context)];
      loose.push(...made);
      frames += made.length;
    }
    for (let i = 0; i < tail; i++) {
      const kind = dice.pick(TAIL_KINDS);
      const bodyKind = dice.pick(BODY_KINDS);
      const single = bodyKind === 'upload' || bodyKind === 'burst' ? 'syn' : bodyKind;
      loose.push(kind === 'mutated' ? this.mutate(this.frame(single, context)) : this.frame(kind, context));
      frames++;
    }
    cutLoose();
    return { chunks, frames, pauseEvery: 8 };
  }

  /** One kind of control frame, copy after copy, copy n cut in two after its byte n. */
  private sweep(context: FrameContext): ConnectionPlan {
    const kind = this.dice.pick(SWEPT_KINDS);
    const chunks: Buffer[] = [];
    let frames = 0;
    for (let cut = 1; ; cut++) {
      const frame = kind === 'goaway-last' ? encodePing(this.version, 2 * cut) : this.frame(kind, context);
      frames++;
      if (cut >= frame.length || cut > MAX_SWEEP_CUTS) {
        chunks.push(frame); // (a block compressed must be sent, or the inflater falls behind)
        break;
      }
      chunks.push(frame.subarray(0, cut), frame.subarray(cut));
    }
    if (kind === 'goaway-last') {
      // A GOAWAY cut at every boundary too, last, as it ends the session.
      const goaway = encodeGoaway(this.version, 0, 0);
      for (let cut = 1; cut < goaway.length; cut++) chunks.push(goaway.subarray(cut - 1, cut));
      chunks.push(goaway.subarray(goaway.length - 1));
      frames++;
    }
    return { chunks, frames, pauseEvery: 1 };
  }

  /** Streams opened (well-formed GETs) and reset, interleaved or all opened first. */
  private burst(context: FrameContext): Buffer[] {
    const { dice } = this;
    const n = 2 + dice.int(MAX_BURST_STREAMS - 1);
    const opened: number[] = [];
    const syns: Buffer[] = [];
    const resets: Buffer[] = [];
    const interleaved = dice.chance(0.5);
    const out: Buffer[] = [];
    let bytes = 0;
    for (let i = 0; i < n && bytes < ONE_RECORD_BYTES - 200; i++) {
      const id = context.ids.next;
      context.ids.next += 2;
      opened.push(id);
      const syn = context.synStream(id, encodeHeaderBlock(this.version, context.requestHeaders()), dice.chance(0.8));
      const rst = encodeRstStream(this.version, id, dice.pick([RstStatus.CANCEL, RstStatus.CANCEL, RstStatus.REFUSED_STREAM, RstStatus.INTERNAL_ERROR]));
      bytes += syn.length + rst.length;
      if (interleaved) out.push(syn, rst);
      else (syns.push(syn), resets.push(rst));
    }
    return interleaved ? out : [...syns, ...resets];
  }

  private context(deflater: HeaderDeflater): FrameContext {
    const generator = this;
    return {
      version: this.version,
      dice: this.dice,
      ids: { next: 1 },
      compress: (plain) => Buffer.from(deflater.deflate(plain)),
      synStream(id, plain, fin) {
        return generator.synStream(this, id, plain, fin);
      },
      requestHeaders: () => this.requestHeaders(false),
    };
  }

  private frame(kind: FrameKind, context: FrameContext): Buffer {
    const { version: v, dice } = this;
    const ids = context.ids;
    const open = Math.max(1, ids.next - 2); // the last stream opened (or 1)
    const openNext = (plain: Buffer, fin = dice.chance(0.7)): Buffer => {
      const id = ids.next;
      ids.next += 2;
      return this.synStream(context, id, plain, fin);
    };
    switch (kind) {
      case 'syn': {
        // An even id is a stream error; the next odd one opens a stream.
        if (dice.chance(0.03)) return this.synStream(context, ids.next + 1, encodeHeaderBlock(v, this.requestHeaders(true)), dice.chance(0.7));
        return openNext(encodeHeaderBlock(v, this.requestHeaders(true)));
      }
      case 'bad-pairs':
        // A block that inflates and parses, but one pair in its middle is a stream error.
        return openNext(encodeHeaderBlock(v, badPairs(context)));
      case 'syn-out-of-order': {
        const id = dice.pick([open, 0x7fff_ffff, 1 + 2 * dice.int(1 << 30)]);
        if (id >= ids.next) ids.next = id + 2;
        return this.synStream(context, id, encodeHeaderBlock(v, this.requestHeaders(true)), dice.chance(0.7));
      }
      case 'syn-garbled':
        return this.synStream(context, ids.next, this.garble(encodeHeaderBlock(v, this.requestHeaders(true))), dice.chance(0.7));
      case 'syn-structural':
        return openNext(structuralDamage(context, encodeHeaderBlock(v, this.requestHeaders(false))));
      case 'syn-bomb':
        return openNext(blockBomb(context));
      case 'data': {
        const length = dice.pick([0, 1, 10, 100, 1000, 16384]);
        return Buffer.concat([encodeDataHeader(dice.chance(0.8) ? open : 1 + dice.int(1000), length, dice.chance(0.5)), Buffer.alloc(length, 0x61)]);
      }
      case 'data-stream-0':
        return encodeDataHeader(0, 0, true);
      case 'rst':
        return encodeRstStream(v, dice.chance(0.8) ? open : 1 + dice.int(1000), 1 + dice.int(13));
      case 'rst-status-0':
        return encodeRstStream(v, open, 0);
      case 'settings':
        return encodeSettings(v, Array.from({ length: dice.int(5) }, () => ({ id: dice.int(11), flags: dice.int(4), value: dice.pick([0, 1, 100, 65535, 1 << 20, 0x7fff_ffff]) })));
      case 'ping':
        return encodePing(v, dice.int(2 ** 32));
      case 'window': {
        // (A zero delta is a stream error on a stream, a session error on stream 0: tail only.)
        const id = dice.chance(0.1) ? 0 : dice.chance(0.8) ? open : 1 + dice.int(1000);
        return encodeWindowUpdate(v, id, dice.pick([1, 1000, 65536, 0x7fff_ffff, ...(id !== 0 && dice.chance(0.5) ? [0] : [])]));
      }
      case 'headers':
        return encodeHeaders(v, open, dice.chance(0.5), context.compress(encodeHeaderBlock(v, ['x-trailer', 'v', 'x-other', String(dice.int(1000))])));
      case 'noop':
        return control(v.wire, FrameType.NOOP, 0, Buffer.alloc(0));
      case 'credential':
        return control(v.wire, FrameType.CREDENTIAL, 0, Buffer.alloc(6 + dice.int(40)));
      case 'unknown':
        return control(v.wire, 11 + dice.int(100), dice.int(256), Buffer.alloc(dice.int(64)));
      case 'goaway':
        return encodeGoaway(v, dice.int(100), dice.int(3));
    }
  }

  private synStream(context: FrameContext, id: number, plain: Buffer, fin: boolean): Buffer {
    const { dice } = this;
    const flags = { associatedStreamId: dice.chance(0.03) ? 1 + dice.int(8) : 0, priority: dice.int(8), fin, unidirectional: dice.chance(0.03) };
    return encodeSynStream(this.version, { streamId: id, ...flags }, context.compress(plain));
  }

  /** A request's headers: mostly well-formed, and with `faults` sometimes a bad target, method, host or value. */
  private requestHeaders(faults: boolean): string[] {
    const { dice } = this;
    const n = this.version.headers;
    if (!faults) return [n.method, 'GET', n.path, dice.pick(PATHS.slice(0, 6)), n.version, 'HTTP/1.1', n.host, 'localhost', n.scheme, 'https'];
    const path = dice.chance(0.85) ? dice.pick(PATHS) : dice.pick(BAD_TARGETS);
    const headers = [n.method, dice.chance(0.9) ? dice.pick(METHODS.slice(0, 5)) : dice.pick(METHODS), n.path, path, n.version, 'HTTP/1.1', n.host, dice.chance(0.95) ? 'localhost' : dice.pick(['a b', 'u@x', 'x:y', '[::1]:1', '']), n.scheme, 'https'];
    if (dice.chance(0.1)) headers.splice(2 * dice.int(5), 2); // a reserved header missing
    if (dice.chance(0.3)) headers.push('content-length', dice.pick(['0', '10', 'x', '-1', '99999999999']));
    if (dice.chance(0.2)) headers.push('x-fuzz', dice.pick(['v', 'a\0b', 'a\r\nb', '\0', 'x'.repeat(3000)]));
    return headers;
  }

  /** A header block with a few bytes changed before compression (lengths, counts, NULs). */
  private garble(plain: Buffer): Buffer {
    const { dice } = this;
    const out = Buffer.from(plain);
    for (let i = 1 + dice.int(3); i > 0; i--) out[dice.int(out.length)] = dice.pick([0, 0xff, 0x3a, 0x20, 0x41, 0x0a, dice.int(256)]);
    return dice.chance(0.2) ? out.subarray(0, dice.int(out.length)) : out;
  }

  /** One raw change to a whole frame: a byte, the length, the flags, the version, the end. */
  private mutate(frame: Buffer): Buffer {
    const { dice } = this;
    const out = Buffer.from(frame);
    switch (dice.int(6)) {
      case 0:
        out[dice.int(out.length)] ^= 1 << dice.int(8);
        return out;
      case 1: // a length that lies, within reason (a 16 MiB claim would only wait for bytes)
        out.writeUIntBE(Math.max(0, out.readUIntBE(5, 3) + dice.pick([-8, -4, -1, 1, 4, 8, 100])), 5, 3);
        return out;
      case 2:
        out[4] = dice.int(256);
        return out;
      case 3:
        if (out[0] & 0x80) out.writeUInt16BE(0x8000 | dice.pick([1, 2, 3, 4, 0x7fff]), 0);
        return out;
      case 4:
        return out.subarray(0, dice.int(out.length));
      default:
        return Buffer.concat([out, Buffer.alloc(dice.int(16), dice.int(256))]);
    }
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
