// Sends a byte range of an open file to a response body (an exchange or a push), a chunk at a
// time and within the body's room: a read starts only while the body takes writes (write()
// true, or onDrain), so a large file costs a bounded few chunks of memory per stream whatever its
// size, and goes at the pace the client's flow-control window (or TCP) allows.

import { close, read } from 'node:fs';
import type { PushSink } from '../exchange/exchange.ts';

/** The writable side of an exchange or a push sink (a ServerExchange has the same members). */
export type BodyTarget = Pick<PushSink, 'write' | 'end' | 'abort' | 'onDrain' | 'onAbort'>;

/** How a pump reads: the chunk size, and whether the next chunk is read while one waits to drain. */
export interface PumpShape {
  readonly chunkBytes: number;
  readonly readAhead: boolean;
  /**
   * A chunk is read into the buffer of an earlier one whose write has completed, not into a new
   * one (a new 256 KiB or 1 MiB buffer per read, each its own mapping with its page faults and
   * external memory for the collector, was over half of a large file's CPU: h2c 1.3-2.0 ->
   * 0.4-0.6 ms per MiB, HTTP/1.1 0.9-1.4 -> 0.4-0.6). Only for a target whose write completes
   * once its bytes have left the buffer, as node:http2's and node:http's do; SPDY's framer
   * completes it once the frame is handed to the socket, which may still hold the bytes.
   */
  readonly reuseChunks: boolean;
}

/**
 * A multiplexed stream (SPDY, a push): 256 KiB reads, one chunk held at a time, since a peer can
 * hold many streams at window 0 (with 64 KiB reads a 256 MiB file moved ~480 MiB/s over loopback,
 * with these ~500-770; the thread-pool hop per read is the cost).
 */
export const STREAM_PUMP: PumpShape = { chunkBytes: 256 << 10, readAhead: false, reuseChunks: false };
/** An h2 stream (or push): as STREAM_PUMP, reusing chunks. */
export const H2_STREAM_PUMP: PumpShape = { ...STREAM_PUMP, reuseChunks: true };
/**
 * An HTTP/1.1 connection (one response at a time): 1 MiB reads, and the next one read while the
 * socket drains the last, so the pipe never waits on the thread pool: up to two chunks held per
 * connection (a 256 MiB file: ~0.3-0.4 -> ~0.4-0.9 GiB/s on a loaded loopback, and less CPU).
 */
export const CONNECTION_PUMP: PumpShape = { chunkBytes: 1 << 20, readAhead: true, reuseChunks: true };

/** Writes bytes start..end (inclusive) of fd to target, then ends it; closes fd either way. */
export function pumpFile(fd: number, start: number, end: number, target: BodyTarget, shape: PumpShape = STREAM_PUMP): void {
  let position = start; // the next byte to read
  let stopped = false;
  let reading = false; // a spurious drain while a read is out must not start a second one
  let full = false; // the target's last write() said false, and no drain since
  let ready: Buffer | undefined; // read, not yet written
  let spare: Buffer | undefined; // a chunk whose write completed (reuseChunks)
  const finish = (): void => {
    if (stopped) return;
    stopped = true;
    close(fd, ignore);
  };
  target.onAbort = finish;
  const flush = (): void => {
    if (ready === undefined || full || stopped) return;
    const chunk = ready;
    ready = undefined;
    if (position > end) {
      finish();
      target.end(chunk);
      return;
    }
    full = !target.write(chunk, shape.reuseChunks && chunk.length === shape.chunkBytes ? () => (spare = chunk) : undefined);
    if (!full || shape.readAhead) next();
  };
  const next = (): void => {
    if (stopped || reading || ready !== undefined) return;
    reading = true;
    const length = Math.min(shape.chunkBytes, end + 1 - position);
    const buffer = spare !== undefined && spare.length === length ? spare : Buffer.allocUnsafeSlow(length);
    spare = undefined;
    read(fd, buffer, 0, length, position, (error, bytes, chunk) => {
      reading = false;
      if (stopped) return;
      // A file that shrank under us cannot keep the promised length: reset, never pad.
      if (error !== null || bytes === 0) {
        finish();
        target.abort();
        return;
      }
      position += bytes;
      ready = bytes === length ? chunk : chunk.subarray(0, bytes);
      flush();
    });
  };
  target.onDrain = () => {
    full = false;
    if (ready !== undefined) flush();
    else next();
  };
  next();
}

function ignore(): void {}
