// The access log's writer: each record is formatted into its line when its response ends, and
// the line is copied at once into a chunk buffer (the default line is written into it directly); a chunk is written when it is full or 50 ms
// after its first line, one write in flight at a time, never a synchronous write per request.
// Formatting and copying at once is for the garbage collector: a queued record would keep its
// request's objects alive past the next scavenge, and promoting them costs far more than the line
// does. A chunk per 50 ms, not per event-loop turn, is one thread-pool write per chunk instead of
// one per turn. A slow or full disk costs dropped lines (counted, past 4 MiB queued), never a
// stalled server.
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

/** Bytes of lines waiting for the writer; past this, new lines are dropped (and counted). */
export const MAX_PENDING_BYTES = 4 << 20;
/** POSIX's minimum and Linux's PIPE_BUF: writes up to this size to a pipe are atomic. */
const PIPE_ATOMIC_BYTES = 4096;
/** Chunk size for regular files: big enough that a busy second is a few writes. */
const FILE_CHUNK_BYTES = 64 << 10;
/** How long a line may wait in a chunk that is not full yet. */
const FLUSH_MS = 50;
/** How long to wait before writing again to a pipe that was full (EAGAIN). */
const RETRY_MS = 20;

export class LogWriter {
  /** Lines lost to a full queue or a failed write. */
  dropped = 0;
  private readonly path: string | undefined;
  private readonly format: LineFormat;
  private fd: number;
  private chunkBytes: number;
  /** The chunk lines are copied into as they are formatted: no line string outlives its request. */
  private filling: Buffer;
  private filled = 0;
  /** Whole chunks not yet written (the first may be in flight), and their bytes. */
  private chunks: Buffer[] = [];
  private queuedBytes = 0;
  private writing = false;
  private timer: NodeJS.Timeout | undefined = undefined;
  private reopenWanted = false;
  private closed = false;
  /** Set by a close() that found a write in flight: called once the queue is written. */
  private allWritten: (() => void) | undefined = undefined;

  /** `path` undefined: stderr. */
  constructor(path: string | undefined, format: LineFormat) {
    this.path = path;
    this.format = format;
    this.fd = path === undefined ? 2 : openSync(path, 'a');
    this.chunkBytes = chunkLimit(this.fd);
    this.filling = Buffer.allocUnsafe(this.chunkBytes);
  }

  push(record: AccessRecord): void {
    if (this.closed || this.queuedBytes + this.filled >= MAX_PENDING_BYTES) {
      this.dropped++;
      return;
    }
    const encode = this.format.encodeInto;
    if (encode !== undefined) {
      // Straight into the chunk (the newline after it); into a fresh one if it did not fit.
      let end = encode(record, this.filling, this.filled, this.chunkBytes - 1);
      if (end < 0 && this.filled > 0) {
        this.seal(true);
        end = encode(record, this.filling, 0, this.chunkBytes - 1);
      }
      if (end >= 0) {
        this.filling[end] = 10;
        this.filled = end + 1;
        if (this.timer === undefined) this.timer = setTimeout(flushWriter, FLUSH_MS, this).unref();
        return;
      }
    }
    this.pushLine(this.format.line(record));
  }

  private pushLine(line: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: a line sure to fit needs no measuring.
    if (this.filled + line.length * 3 >= this.chunkBytes) {
      const size = Buffer.byteLength(line) + 1;
      if (this.filled + size > this.chunkBytes) {
        this.seal(true);
        // A line longer than a chunk goes out as a chunk of its own.
        if (size > this.chunkBytes) {
          this.enqueue(Buffer.from(`${line}\n`));
          return;
        }
      }
    }
    this.filled += this.filling.write(line, this.filled);
    this.filling[this.filled++] = 10;
    if (this.timer === undefined) this.timer = setTimeout(flushWriter, FLUSH_MS, this).unref();
  }

  /** logrotate moved the file: the next write goes to a new file at the path. */
  reopen(): void {
    if (this.path === undefined) return;
    this.reopenWanted = true;
    if (!this.writing) this.swapFile();
  }

  /** Writes what is queued, the chunk being filled included. */
  flush(): void {
    this.seal(true);
  }

  /** The chunk being filled joins the queue (if it holds anything) and a fresh one begins;
   * `write`: and the writer starts on the queue if it is idle. */
  private seal(write: boolean): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.filled === 0) return;
    const chunk = this.filling.subarray(0, this.filled);
    this.filling = Buffer.allocUnsafe(this.chunkBytes);
    this.filled = 0;
    this.enqueue(chunk, write);
  }

  private enqueue(chunk: Buffer, write = true): void {
    this.chunks.push(chunk);
    this.queuedBytes += chunk.length;
    if (write && !this.writing) this.writeNext();
  }

  /** At exit: whatever is queued, written now. */
  flushSync(): void {
    this.seal(false);
    for (const chunk of this.writing ? this.chunks.slice(1) : this.chunks) {
      try {
        writeSync(this.fd, chunk);
      } catch {
        this.dropped += countLines(chunk);
      }
    }
    this.chunks = [];
    this.queuedBytes = 0;
  }

  /**
   * Writes what is queued and closes the file; lines pushed after are dropped. With no write in
   * flight, every line is in the file when close() returns. With one in flight (an earlier chunk,
   * in the thread pool), the rest follows it in order and the file is closed after it: closing
   * the file under it would lose its lines (EBADF), and writing the rest at once could land them
   * before it. The promise says when the file is closed.
   */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    if (!this.writing) {
      this.flushSync();
      this.closeFile();
      return Promise.resolve();
    }
    this.seal(false);
    return new Promise((resolve) => {
      this.allWritten = () => {
        this.closeFile();
        resolve();
      };
    });
  }

  private closeFile(): void {
    if (this.fd !== 2) closeSync(this.fd);
  }

  private writeNext(): void {
    const chunk = this.chunks[0];
    if (chunk === undefined) {
      this.allWritten?.();
      this.allWritten = undefined;
      return;
    }
    this.writing = true;
    write(this.fd, chunk, 0, chunk.length, null, (error, written) => {
      this.writing = false;
      if (error !== null && error.code === 'EAGAIN') {
        setTimeout(() => this.writeNext(), RETRY_MS).unref();
        return;
      }
      this.chunks.shift();
      this.queuedBytes -= chunk.length;
      if (error !== null) this.dropped += countLines(chunk);
      // A short write to a regular file (a full disk): the rest is written next, still appended.
      else if (written < chunk.length) {
        this.chunks.unshift(chunk.subarray(written));
        this.queuedBytes += chunk.length - written;
      }
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
