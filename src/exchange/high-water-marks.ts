// Sets a stream's buffer high-water marks after it was made. Node only takes them at
// construction, and the sockets spry serves are made by node:tls / node:net (a TLSSocket even
// ignores its server's highWaterMark). The marks live on the streams' internal state objects,
// where write() and push() read them each time; the public getters read the same fields.

import type { Duplex } from 'node:stream';

interface StreamStates {
  _writableState?: { highWaterMark: number };
  _readableState?: { highWaterMark: number };
}

export function setHighWaterMarks(stream: Duplex, marks: { writeBytes?: number; readBytes?: number }): void {
  const states = stream as unknown as StreamStates;
  if (marks.writeBytes !== undefined && states._writableState !== undefined) states._writableState.highWaterMark = marks.writeBytes;
  if (marks.readBytes !== undefined && states._readableState !== undefined) states._readableState.highWaterMark = marks.readBytes;
}
