// Where WebSocket frames end in a byte stream spry relays without reading it (RFC 6455 §5.2):
// a close frame of spry's own (going-away.ts) may only go between two frames. Only the headers
// are looked at: the payloads are skipped by their length.

const EMPTY = Buffer.alloc(0);

export class FrameCursor {
  /** Bytes of the current frame's payload still to come. */
  private left = 0;
  /** The start of a frame header that ended a chunk. */
  private header: Buffer = EMPTY;

  /** True between two frames. */
  get atBoundary(): boolean {
    return this.left === 0 && this.header.length === 0;
  }

  /**
   * Moves over `chunk`, the next bytes of the stream; with `stopAtBoundary`, stops at the first
   * point between two frames in it. Returns how many bytes of `chunk` it moved over.
   */
  advance(chunk: Buffer, stopAtBoundary = false): number {
    let at = 0;
    for (;;) {
      if (this.left > 0) {
        const take = Math.min(this.left, chunk.length - at);
        this.left -= take;
        at += take;
        if (this.left > 0) return at;
      }
      if ((stopAtBoundary && this.header.length === 0) || at === chunk.length) return at;
      const start = this.header.length === 0 ? chunk.subarray(at) : Buffer.concat([this.header, chunk.subarray(at)]);
      const header = frameHeader(start);
      if (header === undefined) {
        this.header = Buffer.from(start);
        return chunk.length;
      }
      at += header.size - this.header.length;
      this.header = EMPTY;
      this.left = header.payload;
    }
  }
}

/** A frame header's size and its payload's length, once all of the header is there. */
function frameHeader(bytes: Buffer): { size: number; payload: number } | undefined {
  if (bytes.length < 2) return undefined;
  const length7 = bytes[1] & 0x7f;
  const extended = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
  const size = 2 + extended + (bytes[1] & 0x80 ? 4 : 0);
  if (bytes.length < size) return undefined;
  const payload = length7 === 126 ? bytes.readUInt16BE(2) : length7 === 127 ? Number(bytes.readBigUInt64BE(2)) : length7;
  return { size, payload };
}
