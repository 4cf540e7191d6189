// Sends a byte range of an open file to a response body (an exchange or a push), one chunk at a
// time: the next read starts only once the body has room (write() true, or onDrain), so a large
// file costs one chunk of memory per stream whatever its size, and goes at the pace the client's
// flow-control window allows.

import { close, read } from 'node:fs';
import type { PushSink } from '../exchange/exchange.ts';

/** The writable side of an exchange or a push sink (a ServerExchange has the same members). */
export type BodyTarget = Pick<PushSink, 'write' | 'end' | 'abort' | 'onDrain' | 'onAbort'>;

/**
 * 256 KiB reads: with 64 KiB ones a 256 MiB file moved ~480 MiB/s over loopback HTTP/1.1, with
 * these ~500-770 (the thread-pool hop per read is the cost). Reading one chunk ahead of the
 * writes measured no better, so one chunk per stream is all that is held.
 */
const CHUNK_BYTES = 256 << 10;

/** Writes bytes start..end (inclusive) of fd to target, then ends it; closes fd either way. */
export function pumpFile(fd: number, start: number, end: number, target: BodyTarget): void {
  let position = start;
  let stopped = false;
  let reading = false; // a spurious drain while a read is out must not start a second one
  const finish = (): void => {
    if (stopped) return;
    stopped = true;
    close(fd, ignore);
  };
  target.onAbort = finish;
  const next = (): void => {
    if (stopped || reading) return;
    reading = true;
    const length = Math.min(CHUNK_BYTES, end + 1 - position);
    read(fd, Buffer.allocUnsafe(length), 0, length, position, (error, bytes, chunk) => {
      reading = false;
      if (stopped) return;
      // A file that shrank under us cannot keep the promised length: reset, never pad.
      if (error !== null || bytes === 0) {
        finish();
        target.abort();
        return;
      }
      position += bytes;
      const body = bytes === length ? chunk : chunk.subarray(0, bytes);
      if (position > end) {
        finish();
        target.end(body);
      } else if (target.write(body)) {
        next();
      }
    });
  };
  target.onDrain = next;
  next();
}

function ignore(): void {}
