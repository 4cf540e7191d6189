// SPDY header compression (docs/spdy-protocol.md §5): one zlib stream per direction per session, primed with the
// version's dictionary, each block ending with a SYNC_FLUSH. Both directions must see every
// block, even for refused streams, or they fall out of step.
//
// pako's low-level zlib is used because it runs synchronously on a context that lives across
// calls: node:zlib offers that only asynchronously (its sync API closes the context after one
// call), and an async hop per header block would hold back every frame behind it.

import {
  ZStream,
  Z_BUF_ERROR,
  Z_DEFAULT_STRATEGY,
  Z_NEED_DICT,
  Z_OK,
  Z_STREAM_END,
  Z_SYNC_FLUSH,
  zlibDeflate,
  zlibDeflateEnd,
  zlibDeflateInit2,
  zlibDeflateSetDictionary,
  zlibInflate,
  zlibInflateEnd,
  zlibInflateInit,
  zlibInflateSetDictionary,
} from 'pako';
import {
  DYNAMIC_DISTANCE_TABLE,
  DYNAMIC_LENGTH_TABLE,
  INFLATE_MODE_TYPE,
  LENS_ENTRIES,
  WORK_ENTRIES,
  inflateState,
} from '../internals/pako-internals.ts';
import { SpdySessionError } from './protocol-error.ts';

/**
 * Output goes to one scratch buffer shared by every session: all of this runs synchronously on
 * one thread, and callers consume the result before the next call. Steady state allocates nothing.
 */
let scratch = Buffer.allocUnsafe(16 << 10);
/**
 * The same memory as a plain Uint8Array, which is what pako writes to: its inflate() takes a
 * subarray() of its output for the window on every call, and a Buffer's subarray() goes
 * through Buffer's JavaScript constructor (the species of a Uint8Array subclass).
 */
let scratchBytes = plainBytes(scratch);

function plainBytes(buffer: Buffer): Uint8Array<ArrayBuffer> {
  // allocUnsafe's memory is an ArrayBuffer (never shared).
  return new Uint8Array(buffer.buffer as ArrayBuffer, buffer.byteOffset, buffer.length);
}

function growScratch(minBytes: number): void {
  let size = scratch.length * 2;
  while (size < minBytes) size *= 2;
  const bigger = Buffer.allocUnsafe(size);
  scratch.copy(bigger);
  scratch = bigger;
  scratchBytes = plainBytes(bigger);
}

/** What the code tables take: freed with the window while idle. */
const INFLATE_TABLE_BYTES = (DYNAMIC_LENGTH_TABLE + DYNAMIC_DISTANCE_TABLE) * 4 + (LENS_ENTRIES + WORK_ENTRIES) * 2;

export class HeaderInflater {
  private readonly strm = new ZStream();
  private readonly dictionary: Uint8Array;
  private readonly maxOutputBytes: number;
  /** The window's filled part while it is compacted (see compact()). */
  private compacted: Uint8Array | null = null;
  /** True while the code tables are freed (see compact()). */
  private tablesFreed = false;

  constructor(dictionary: Uint8Array, maxOutputBytes: number) {
    this.dictionary = dictionary;
    this.maxOutputBytes = maxOutputBytes;
    if (zlibInflateInit(this.strm) !== Z_OK) throw new Error('zlib inflateInit failed');
  }

  /**
   * Inflates one header block. The result is a view into shared scratch memory, valid until
   * the next call of any inflater or deflater. Throws SpdySessionError: any failure leaves the
   * context unusable, so it is always a session error.
   */
  inflate(block: Uint8Array): Buffer {
    const length = this.inflateInPlace(block);
    return scratch.subarray(0, length);
  }

  /** The shared scratch memory inflateInPlace() leaves its result at the start of. */
  get output(): Buffer {
    return scratch;
  }

  /** inflate() without the view: the block's inflated length, its bytes at the start of `output`. */
  inflateInPlace(block: Uint8Array): number {
    if (this.compacted !== null || this.tablesFreed) this.restore();
    const strm = this.strm;
    strm.input = block;
    strm.next_in = 0;
    strm.avail_in = block.length;
    strm.output = scratchBytes;
    strm.next_out = 0;
    strm.avail_out = scratch.length;
    for (;;) {
      let status = zlibInflate(strm, Z_SYNC_FLUSH);
      if (status === Z_NEED_DICT) {
        if (zlibInflateSetDictionary(strm, this.dictionary) !== Z_OK) throw fail('the header block names an unknown zlib dictionary');
        status = zlibInflate(strm, Z_SYNC_FLUSH);
      }
      if (status !== Z_OK && status !== Z_BUF_ERROR && status !== Z_STREAM_END) {
        throw fail(`header block does not inflate (${strm.msg || `zlib status ${status}`})`);
      }
      const produced = strm.next_out;
      if (produced > this.maxOutputBytes) {
        throw new SpdySessionError('SPRY_ERR_SPDY_HEADERS_TOO_LARGE', `inflated header block exceeds ${this.maxOutputBytes} bytes`);
      }
      if (strm.avail_out !== 0 || status === Z_STREAM_END) {
        if (strm.avail_in !== 0) throw fail('bytes follow the end of the compressed header block');
        return produced;
      }
      // Output full: grow the scratch and go on where zlib stopped.
      growScratch(produced + 1);
      strm.output = scratchBytes;
      strm.avail_out = scratch.length - produced;
    }
  }

  /**
   * Frees most of the window of an idle context: the peer picks its window size (32 KiB for
   * every real client) but a connection that made a few requests has filled only the first few
   * KiB of it (the dictionary and its headers). The filled part is kept and put back, exactly,
   * before the next block. Between blocks the code tables (~7 KiB) are freed too: the next
   * block brings its own codes, and they are made anew for it. Returns the bytes freed (nothing
   * of the window once it has wrapped: all of it is history then).
   */
  compact(): number {
    const state = inflateState(this.strm);
    let freed = 0;
    if (!this.tablesFreed && state.mode === INFLATE_MODE_TYPE && state.lendyn !== null) {
      if (state.lencode === state.lendyn) state.lencode = null;
      if (state.distcode === state.distdyn) state.distcode = null;
      state.lens = state.work = state.lendyn = state.distdyn = null;
      this.tablesFreed = true;
      freed += INFLATE_TABLE_BYTES;
    }
    const window = state.window;
    if (this.compacted !== null || window === null || state.whave >= state.wsize || state.wnext !== state.whave) return freed;
    this.compacted = window.slice(0, state.whave);
    state.window = null;
    return freed + window.length - this.compacted.length;
  }

  private restore(): void {
    const state = inflateState(this.strm);
    if (this.compacted !== null) {
      const window = new Uint8Array(state.wsize);
      window.set(this.compacted);
      state.window = window;
      this.compacted = null;
    }
    if (this.tablesFreed) {
      state.lens = new Uint16Array(LENS_ENTRIES);
      state.work = new Uint16Array(WORK_ENTRIES);
      state.lendyn = new Int32Array(DYNAMIC_LENGTH_TABLE);
      state.distdyn = new Int32Array(DYNAMIC_DISTANCE_TABLE);
      state.lencode ??= state.lendyn;
      state.distcode ??= state.distdyn;
      this.tablesFreed = false;
    }
  }

  close(): void {
    this.compacted = null;
    zlibInflateEnd(this.strm);
  }
}

function fail(message: string): SpdySessionError {
  return new SpdySessionError('SPRY_ERR_SPDY_COMPRESSION', message);
}

/** Deflate parameters: header blocks are small and repetitive, so a 4 KiB window and a 2K-entry
 * hash keep ~20 KiB per session instead of zlib's default ~270 KiB, at no cost in ratio that
 * matters for blocks of a few hundred bytes. Level 1 (greedy matching): on a run of typical
 * replies it spends ~45% less time than level 6 for ~9% more bytes (31.9 vs 29.3 bytes a reply);
 * the repeats across replies, which make most of the saving, are found either way. */
const DEFLATE_LEVEL = 1;
const DEFLATE_WINDOW_BITS = 12;
const DEFLATE_MEM_LEVEL = 4;
const Z_DEFLATED = 8;

/** Rough size of a deflate context at these parameters (window, hash chains, pending buffer, trees). */
const DEFLATE_STATE_BYTES = 26 << 10;

export class HeaderDeflater {
  private strm = new ZStream();
  private released = false;

  constructor(dictionary: Uint8Array) {
    if (
      // legacyHash: without it pako 3 raises the hash table to 2^15 entries (64 KiB) whatever
      // memLevel says, and rescans all of it on every window slide.
      zlibDeflateInit2(this.strm, DEFLATE_LEVEL, Z_DEFLATED, DEFLATE_WINDOW_BITS, DEFLATE_MEM_LEVEL, Z_DEFAULT_STRATEGY, true) !== Z_OK ||
      zlibDeflateSetDictionary(this.strm, dictionary) !== Z_OK
    ) {
      throw new Error('zlib deflateInit failed');
    }
  }

  /**
   * Frees the context of an idle session. The peer's inflater needs no cooperation: after a
   * SYNC_FLUSH the stream sits at a block boundary, and the next blocks come from a fresh raw
   * deflater (no zlib header, no dictionary) whose back-references reach only into what it wrote
   * itself, which the peer's window holds at the same distances. The price is the first blocks
   * after idleness compressing without the history. Returns the bytes freed.
   */
  release(): number {
    // Before its first block the peer still expects the zlib header: keep it.
    if (this.released || this.strm.total_out === 0) return 0;
    zlibDeflateEnd(this.strm);
    this.released = true;
    return DEFLATE_STATE_BYTES;
  }

  private restart(): void {
    this.strm = new ZStream();
    if (zlibDeflateInit2(this.strm, DEFLATE_LEVEL, Z_DEFLATED, -DEFLATE_WINDOW_BITS, DEFLATE_MEM_LEVEL, Z_DEFAULT_STRATEGY, true) !== Z_OK) {
      throw new Error('zlib deflateInit failed');
    }
    this.released = false;
  }

  /** Compresses one block; the result is a view into shared scratch memory (see inflate). */
  deflate(block: Uint8Array): Buffer {
    if (this.released) this.restart();
    const strm = this.strm;
    strm.input = block;
    strm.next_in = 0;
    strm.avail_in = block.length;
    // A SYNC_FLUSHed block is at most a little larger than its input.
    const bound = block.length + (block.length >>> 3) + 64;
    if (scratch.length < bound) growScratch(bound);
    strm.output = scratchBytes;
    strm.next_out = 0;
    strm.avail_out = scratch.length;
    for (;;) {
      const status = zlibDeflate(strm, Z_SYNC_FLUSH);
      if (status !== Z_OK && status !== Z_BUF_ERROR) throw new Error(`zlib deflate failed (status ${status})`);
      if (strm.avail_out !== 0) return scratch.subarray(0, strm.next_out);
      const produced = strm.next_out;
      growScratch(produced + 1);
      strm.output = scratchBytes;
      strm.avail_out = scratch.length - produced;
    }
  }

  close(): void {
    if (!this.released) zlibDeflateEnd(this.strm);
    this.released = true;
  }
}
