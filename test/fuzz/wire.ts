// How the fuzz runners put a plan's bytes on a socket: chunk by chunk, yielding to the event loop
// every few chunks so that the peer reads them apart, at the split points the seed chose.

import type { Socket } from 'node:net';

/** Writes `chunks`; false if the socket was destroyed before all were written. */
export async function writeChunks(socket: Socket, chunks: readonly Buffer[], pauseEvery: number): Promise<boolean> {
  for (const [i, chunk] of chunks.entries()) {
    if (socket.destroyed) return false;
    socket.write(chunk);
    if (i % pauseEvery === pauseEvery - 1) await new Promise((next) => setImmediate(next));
  }
  return !socket.destroyed;
}

/** Counts, by name, in a plain object that serialises in a report. */
export function tally(counts: Record<string, number>, name: string): void {
  counts[name] = (counts[name] ?? 0) + 1;
}
