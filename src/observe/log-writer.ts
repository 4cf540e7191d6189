// The access log's writer: each record is formatted into its line when its response ends, and
// lines queue (bounded) and are written in batches, one write in flight at a time, never a
// synchronous write per request. Formatting at once, not in the batch, is for the garbage
// collector: a queued record would keep its request's objects (head, headers, the front end's
// stream) alive past the next scavenge, and promoting them cost far more than the line does. A slow or full disk
// costs dropped lines (counted), never a stalled server.
//
// Whole lines, never interleaved: every worker opens the file itself with O_APPEND and writes
// only whole lines, in chunks no larger than the target can take atomically. On a regular file
// each O_APPEND write(2) lands whole at the end (Linux holds the inode's lock for the write);
// on a pipe or FIFO (stderr, by default) only writes of up to PIPE_BUF (4096 bytes on Linux)
// are atomic, so chunks there stay under it. Lines do not go through the master: one copy less,
// and a master busy handing out connections is not in their way.

import { close, closeSync, fstatSync, openSync, write, writeSync } from 'node:fs';
import type { AccessRecord } from './access-record.ts';
import type { LineFormat } from './log-format.ts';

/** Lines waiting for the writer; past this, new ones are dropped (and counted). */
export const MAX_PENDING_RECORDS = 16_384;
/** POSIX's minimum and Linux's PIPE_BUF: writes up to this size to a pipe are atomic. */
const PIPE_ATOMIC_BYTES = 4096;
/** Chunk size for regular files: big enough that a busy second is a few writes. */
const FILE_CHUNK_BYTES = 64 << 10;
/** How long to wait before writing again to a pipe that was full (EAGAIN). */
const RETRY_MS = 20;

export class LogWriter {
  /** Lines lost to a full queue or a failed write. */
  dropped = 0;
  private readonly path: string | undefined;
  private readonly format: LineFormat;
  private fd: number;
  private chunkBytes: number;
  private pending: string[] = [];
  /** Formatted chunks not yet written (the first may be in flight). */
  private chunks: Buffer[] = [];
  private writing = false;
  private scheduled = false;
  private reopenWanted = false;
  private closed = false;

  /** `path` undefined: stderr. */
  constructor(path: string | undefined, format: LineFormat) {
    this.path = path;
    this.format = format;
    this.fd = path === undefined ? 2 : openSync(path, 'a');
    this.chunkBytes = chunkLimit(this.fd);
  }

  push(record: AccessRecord): void {
    if (this.pending.length >= MAX_PENDING_RECORDS || this.closed) {
      this.dropped++;
      return;
    }
    this.pending.push(this.format(record));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(flushWriter, this);
    }
  }

  /** logrotate moved the file: the next write goes to a new file at the path. */
  reopen(): void {
    if (this.path === undefined) return;
    this.reopenWanted = true;
    if (!this.writing) this.swapFile();
  }

  /** Gathers what is queued into whole-line chunks and starts writing them. */
  flush(): void {
    this.scheduled = false;
    const lines = this.pending;
    if (lines.length === 0) return;
    this.pending = [];
    let text = '';
    let bytes = 0;
    for (const pending of lines) {
      const line = `${pending}\n`;
      const size = Buffer.byteLength(line);
      if (bytes > 0 && bytes + size > this.chunkBytes) {
        this.chunks.push(Buffer.from(text));
        text = '';
        bytes = 0;
      }
      text += line;
      bytes += size;
    }
    this.chunks.push(Buffer.from(text));
    // Chunks waiting behind a slow disk are bounded too: what is past the bound is dropped.
    while (this.chunks.length > 1 && this.chunks.length * this.chunkBytes > MAX_PENDING_RECORDS * 256) {
      this.dropped += countLines(this.chunks.splice(1, 1)[0]);
    }
    if (!this.writing) this.writeNext();
  }

  /** At exit: whatever is queued, written now. */
  flushSync(): void {
    this.flush();
    for (const chunk of this.writing ? this.chunks.slice(1) : this.chunks) {
      try {
        writeSync(this.fd, chunk);
      } catch {
        this.dropped += countLines(chunk);
      }
    }
    this.chunks = [];
  }

  close(): void {
    this.flushSync();
    this.closed = true;
    if (this.fd !== 2) closeSync(this.fd);
  }

  private writeNext(): void {
    const chunk = this.chunks[0];
    if (chunk === undefined || this.closed) return;
    this.writing = true;
    write(this.fd, chunk, 0, chunk.length, null, (error, written) => {
      this.writing = false;
      if (error !== null && error.code === 'EAGAIN') {
        setTimeout(() => this.writeNext(), RETRY_MS).unref();
        return;
      }
      this.chunks.shift();
      if (error !== null) this.dropped += countLines(chunk);
      // A short write to a regular file (a full disk): the rest is written next, still appended.
      else if (written < chunk.length) this.chunks.unshift(chunk.subarray(written));
      if (this.reopenWanted) this.swapFile();
      this.writeNext();
    });
  }

  private swapFile(): void {
    this.reopenWanted = false;
    let fd: number;
    try {
      fd = openSync(this.path!, 'a');
    } catch {
      return; // the old file keeps the lines until a reopen succeeds
    }
    const old = this.fd;
    this.fd = fd;
    this.chunkBytes = chunkLimit(fd);
    close(old, () => {});
  }
}

function flushWriter(writer: LogWriter): void {
  writer.flush();
}

function chunkLimit(fd: number): number {
  try {
    return fstatSync(fd).isFile() ? FILE_CHUNK_BYTES : PIPE_ATOMIC_BYTES;
  } catch {
    return PIPE_ATOMIC_BYTES;
  }
}

function countLines(chunk: Buffer): number {
  let lines = 0;
  for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  return lines;
}
