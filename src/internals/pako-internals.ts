// The private parts of pako that spry relies on: the fields of its inflate state that hold the
// window and the code tables, which spdy/compression.ts frees while a session is idle and puts
// back, exactly, before the next header block. Checked once, when this module loads, on a real
// inflate of a dictionary-primed, sync-flushed block (require-internals.ts fails loudly, naming
// pako's version); compression.ts then reads the fields directly.

import { createRequire } from 'node:module';
import {
  ZStream,
  Z_DEFAULT_STRATEGY,
  Z_NEED_DICT,
  Z_OK,
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
import { requireInternals, type InternalChecks } from './require-internals.ts';

/** The fields of pako's inflate state (zlib's names) that hold its window and code tables. */
export interface InflateWindowState {
  mode: number;
  window: Uint8Array | null;
  /** Window size, bytes filled, next write position. */
  wsize: number;
  whave: number;
  wnext: number;
  /** Scratch for building a block's code tables, and the dynamic tables built (pako's own). */
  lens: Uint16Array | null;
  work: Uint16Array | null;
  lendyn: Int32Array | null;
  distdyn: Int32Array | null;
  /** The tables the current block decodes with: the dynamic ones, or shared fixed ones. */
  lencode: Int32Array | null;
  distcode: Int32Array | null;
}

/** The inflate state behind a ZStream that zlibInflateInit set up. */
export function inflateState(strm: ZStream): InflateWindowState {
  return (strm as unknown as { state: InflateWindowState }).state;
}

/** pako's inflate mode between blocks (zlib's TYPE): the next block brings its own code tables. */
export const INFLATE_MODE_TYPE = 16191;
/** zlib's ENOUGH_LENS and ENOUGH_DISTS, and the sizes of pako's lens and work arrays. */
export const DYNAMIC_LENGTH_TABLE = 852;
export const DYNAMIC_DISTANCE_TABLE = 592;
export const LENS_ENTRIES = 320;
export const WORK_ENTRIES = 288;

/** A state after one block, as compression.ts sees it between header blocks. */
export function probeInflateState(): { state: InflateWindowState; end(): void } {
  const dictionary = new TextEncoder().encode('spry probe dictionary');
  const deflater = new ZStream();
  zlibDeflateInit2(deflater, 1, 8, 12, 4, Z_DEFAULT_STRATEGY, true);
  zlibDeflateSetDictionary(deflater, dictionary);
  deflater.input = new TextEncoder().encode('spry probe block spry probe block');
  deflater.next_in = 0;
  deflater.avail_in = deflater.input.length;
  deflater.output = new Uint8Array(256);
  deflater.next_out = 0;
  deflater.avail_out = 256;
  zlibDeflate(deflater, Z_SYNC_FLUSH);
  const block = deflater.output.subarray(0, deflater.next_out);
  zlibDeflateEnd(deflater);

  const inflater = new ZStream();
  zlibInflateInit(inflater);
  inflater.input = block;
  inflater.next_in = 0;
  inflater.avail_in = block.length;
  inflater.output = new Uint8Array(256);
  inflater.next_out = 0;
  inflater.avail_out = 256;
  if (zlibInflate(inflater, Z_SYNC_FLUSH) === Z_NEED_DICT && zlibInflateSetDictionary(inflater, dictionary) === Z_OK) zlibInflate(inflater, Z_SYNC_FLUSH);
  return { state: inflateState(inflater), end: () => zlibInflateEnd(inflater) };
}

const isTable = (value: unknown, type: Uint16ArrayConstructor | Int32ArrayConstructor, length?: number): boolean =>
  value instanceof type && (length === undefined || value.length === length);

/** What spry relies on in an inflate state between blocks, each with its check. */
export function pakoInternalChecks(state: Partial<Record<keyof InflateWindowState, unknown>>): InternalChecks {
  return {
    [`inflate state.mode (${INFLATE_MODE_TYPE} between blocks)`]: () => state.mode === INFLATE_MODE_TYPE,
    'inflate state.window': () => state.window instanceof Uint8Array,
    'inflate state.wsize, whave, wnext': () => state.wsize === (state.window as Uint8Array).length && typeof state.whave === 'number' && typeof state.wnext === 'number',
    [`inflate state.lens (${LENS_ENTRIES} entries)`]: () => isTable(state.lens, Uint16Array, LENS_ENTRIES),
    [`inflate state.work (${WORK_ENTRIES} entries)`]: () => isTable(state.work, Uint16Array, WORK_ENTRIES),
    [`inflate state.lendyn (${DYNAMIC_LENGTH_TABLE} entries)`]: () => isTable(state.lendyn, Int32Array, DYNAMIC_LENGTH_TABLE),
    [`inflate state.distdyn (${DYNAMIC_DISTANCE_TABLE} entries)`]: () => isTable(state.distdyn, Int32Array, DYNAMIC_DISTANCE_TABLE),
    'inflate state.lencode, distcode': () => 'lencode' in state && 'distcode' in state,
  };
}

function pakoVersion(): string {
  try {
    return (createRequire(import.meta.url)('pako/package.json') as { version: string }).version;
  } catch {
    return 'of unknown version';
  }
}

{
  const probe = probeInflateState();
  try {
    requireInternals(() => `pako ${pakoVersion()}`, pakoInternalChecks(probe.state));
  } finally {
    probe.end();
  }
}
