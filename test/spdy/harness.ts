// Shared by the SPDY codec tests: hex golden frames, a seeded PRNG, and a recording sink that
// feeds one input to the FrameDecoder whole, byte by byte and split at random points, and
// checks that every way of splitting decodes to the same events.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { FrameDecoder } from '../../src/spdy/frame-decoder.ts';
import type { ControlFrame, FrameSink } from '../../src/spdy/frames.ts';
import { SpdySessionError, SpdyStreamError, type SpdyProtocolError } from '../../src/spdy/protocol-error.ts';
import { SPDY_VERSIONS, type SpdyVersion } from '../../src/spdy/versions.ts';

export const V2 = SPDY_VERSIONS['spdy/2'];
export const V3 = SPDY_VERSIONS['spdy/3'];
export const V31 = SPDY_VERSIONS['spdy/3.1'];
/** SPDY/3.1 says version 3 on the wire and decodes exactly like SPDY/3. */
export const V3_FAMILY: readonly SpdyVersion[] = [V3, V31];
export const ALL_VERSIONS: readonly SpdyVersion[] = [V2, V3, V31];

/** Bytes from hex written the way the notes print frames: spaces, newlines and `|` are ignored. */
export function hex(text: string): Buffer {
  const digits = text.replace(/[\s|]/g, '');
  assert.match(digits, /^(?:[0-9a-fA-F]{2})*$/, `not a whole number of hex bytes: ${text}`);
  return Buffer.from(digits, 'hex');
}

/** A golden capture from test/fixtures/spdy/: hex lines, `#` lines are comments. */
export function fixture(name: string): Buffer {
  const text = readFileSync(new URL(`../fixtures/spdy/${name}`, import.meta.url), 'latin1');
  return hex(
    text
      .split('\n')
      .filter((line) => !line.startsWith('#'))
      .join(''),
  );
}

/** mulberry32: a small seeded PRNG, so every random split can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the decoder reported; a control frame's header block is copied out (the decoder hands out
 * views) as hex. */
export type DecodedEvent =
  | { kind: 'control'; frame: Record<string, unknown> }
  | { kind: 'data'; streamId: number; data: string; fin: boolean }
  | { kind: 'stream-error'; streamId: number; status: number; code: string }
  | { kind: 'session-error'; status: number; code: string };

export interface DecodeOptions {
  readonly maxControlFrameBytes?: number;
}

export const DEFAULT_MAX_CONTROL_FRAME_BYTES = 16_384;

/**
 * A FrameSink that records what it is told. DATA pieces of one frame are joined: a piece whose
 * predecessor on the same stream was not the frame's last (no fin) and that follows it directly
 * extends it. This is applied to every way of feeding alike, so two back-to-back DATA frames on
 * one stream without FIN also show up joined; tests keep such frames apart where it matters.
 */
export class RecordingSink implements FrameSink {
  readonly events: DecodedEvent[] = [];
  /** Number of onData calls, before joining. */
  dataPieces = 0;
  emptyPieces = 0;
  private dataOpen = false;

  onControlFrame(frame: ControlFrame): void {
    this.dataOpen = false;
    const copy: Record<string, unknown> = { ...frame };
    if ('headerBlock' in frame) copy.headerBlock = Buffer.from(frame.headerBlock).toString('hex');
    if ('entries' in frame) copy.entries = frame.entries.map((entry) => ({ ...entry }));
    this.events.push({ kind: 'control', frame: copy });
  }

  onData(streamId: number, chunk: Uint8Array, fin: boolean): void {
    this.dataPieces++;
    if (chunk.length === 0) this.emptyPieces++;
    const data = Buffer.from(chunk).toString('hex');
    const last = this.events.at(-1);
    if (this.dataOpen && last !== undefined && last.kind === 'data' && last.streamId === streamId && !last.fin) {
      last.data += data;
      last.fin = fin;
    } else {
      this.events.push({ kind: 'data', streamId, data, fin });
    }
    this.dataOpen = !fin;
  }

  onProtocolError(error: SpdyProtocolError): void {
    this.dataOpen = false;
    if (error instanceof SpdyStreamError) {
      assert.equal(error.scope, 'stream');
      this.events.push({ kind: 'stream-error', streamId: error.streamId, status: error.status, code: error.code });
    } else {
      assert.ok(error instanceof SpdySessionError, 'a protocol error is a SpdyStreamError or a SpdySessionError');
      assert.equal(error.scope, 'session');
      this.events.push({ kind: 'session-error', status: error.status, code: error.code });
    }
  }
}

/** Decodes `chunks` pushed one after the other into a fresh decoder. */
export function decodeChunks(version: SpdyVersion, chunks: readonly Buffer[], options: DecodeOptions = {}): { events: DecodedEvent[]; sink: RecordingSink; decoder: FrameDecoder } {
  const sink = new RecordingSink();
  const decoder = new FrameDecoder(version, sink, { maxControlFrameBytes: options.maxControlFrameBytes ?? DEFAULT_MAX_CONTROL_FRAME_BYTES });
  for (const chunk of chunks) decoder.push(chunk);
  assertNothingAfterSessionError(sink.events);
  return { events: sink.events, sink, decoder };
}

export function byteByByte(input: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < input.length; i++) chunks.push(input.subarray(i, i + 1));
  return chunks;
}

/** Splits `input` at a random number of random offsets (chunks are copies, as a socket gives). */
export function randomSplit(input: Buffer, seed: number): Buffer[] {
  const random = prng(seed);
  if (input.length < 2) return [Buffer.from(input)];
  const cutCount = 1 + Math.floor(random() * Math.min(12, input.length - 1));
  const cuts = new Set<number>();
  while (cuts.size < cutCount) cuts.add(1 + Math.floor(random() * (input.length - 1)));
  const sorted = [...cuts].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const cut of sorted) {
    chunks.push(Buffer.from(input.subarray(start, cut)));
    start = cut;
  }
  chunks.push(Buffer.from(input.subarray(start)));
  return chunks;
}

export const RANDOM_SPLIT_SEEDS = 64;

/**
 * Decodes `input` whole, byte by byte, in two pieces at every offset (short inputs only), and
 * split at random points for many seeds; asserts all of them agree and returns the events.
 */
export function decodeEveryWay(version: SpdyVersion, input: Buffer, options: DecodeOptions = {}): DecodedEvent[] {
  const whole = decodeChunks(version, [input], options).events;
  sameEvents(decodeChunks(version, byteByByte(input), options).events, whole, 'byte by byte');
  if (input.length <= 2048) {
    for (let at = 1; at < input.length; at++) {
      const split = [input.subarray(0, at), input.subarray(at)];
      sameEvents(decodeChunks(version, split, options).events, whole, `split at ${at}`);
    }
  }
  for (let seed = 1; seed <= RANDOM_SPLIT_SEEDS; seed++) {
    sameEvents(decodeChunks(version, randomSplit(input, seed), options).events, whole, `random split with seed ${seed}`);
  }
  return whole;
}

/** Like deepEqual against the whole-chunk decoding, but shows only where the two first differ. */
function sameEvents(actual: DecodedEvent[], whole: DecodedEvent[], how: string): void {
  if (isDeepStrictEqual(actual, whole)) return;
  let at = 0;
  while (at < actual.length && at < whole.length && isDeepStrictEqual(actual[at], whole[at])) at++;
  assert.deepEqual(
    { events: actual.length, from: at, next: actual.slice(at, at + 2) },
    { events: whole.length, from: at, next: whole.slice(at, at + 2) },
    `decoding ${how} differs from decoding the whole input`,
  );
}

/** A session error ends decoding: it must be the last thing the decoder reports. */
export function assertNothingAfterSessionError(events: readonly DecodedEvent[]): void {
  const at = events.findIndex((event) => event.kind === 'session-error');
  if (at >= 0) assert.equal(at, events.length - 1, 'the decoder reported something after a session error');
}

export function control(frame: Record<string, unknown>): DecodedEvent {
  return { kind: 'control', frame };
}

export function data(streamId: number, text: string, fin: boolean): DecodedEvent {
  return { kind: 'data', streamId, data: Buffer.from(text, 'latin1').toString('hex'), fin };
}

/** Adler-32 (RFC 1950 §8.2), written here so the tests do not trust zlib's own. */
export function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (const byte of bytes) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}
