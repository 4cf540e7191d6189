// Which handed-over connections a worker has taken, told on a channel of their own: the worker's
// fd 4, a socket pair beside the IPC channel (fd 3).
//
// Why not an IPC message: the master keeps its copy of each connection it hands over until the
// worker has it, so that one a worker dies before taking goes to another worker. That is sound
// only if the master learns of every connection a worker began to read before it decides. An IPC
// message is queued in the worker's process whenever earlier messages (a cache write, stats) have
// not all left it; a worker whose loop then blocks (and is killed by --harakiri) never sends it,
// though it read the connection's first bytes, and another worker given the master's copy cannot
// continue that TLS handshake: the client waits for nothing. Here the worker writes the
// connection's id with a blocking write(2) before it reads a byte of it: once the write returns,
// the id is in the kernel, and the master reads it before the end of the channel, which comes
// when the worker is gone. So after a worker's exit and its channel's end, a connection it never
// named was never read, and goes to another worker.
//
// One record per connection: its id, a float64 (ids count up past 2^32 on a long-lived master).

import { writeSync } from 'node:fs';
import type { Readable } from 'node:stream';

/** The worker's descriptor: stdio [ignore, out, err, ipc, this]. */
export const TAKEN_FD = 4;
const RECORD_BYTES = 8;

/** Worker: tells the master connection `id` is ours. Throws if the master is gone (EPIPE). */
export function tellTaken(id: number): void {
  const record = Buffer.allocUnsafe(RECORD_BYTES);
  record.writeDoubleLE(id);
  for (let written = 0; written < RECORD_BYTES; ) {
    try {
      written += writeSync(TAKEN_FD, record, written);
    } catch (error) {
      // A blocking socket does not answer EAGAIN; if it ever were non-blocking, wait it out.
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
  }
}

/** Master: `taken(id)` for each record a worker writes, then `ended()` once its end is closed. */
export function readTaken(channel: Readable, taken: (id: number) => void, ended: () => void): void {
  let partial: Buffer = Buffer.alloc(0);
  channel.on('data', (chunk: Buffer) => {
    const bytes = partial.length === 0 ? chunk : Buffer.concat([partial, chunk]);
    const whole = bytes.length - (bytes.length % RECORD_BYTES);
    for (let at = 0; at < whole; at += RECORD_BYTES) taken(bytes.readDoubleLE(at));
    partial = bytes.subarray(whole);
  });
  // 'close' too: an error (ECONNRESET from a dying worker) ends the stream without 'end'.
  let done = false;
  const end = (): void => {
    if (done) return;
    done = true;
    ended();
  };
  channel.once('end', end);
  channel.once('close', end);
  channel.on('error', () => {});
}
