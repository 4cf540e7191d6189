// A request body without a length, held whole so it can go to a uwsgi backend with
// CONTENT_LENGTH (the protocol has no other framing), as nginx's uwsgi_pass buffers it: in
// memory up to `memoryBytes` (the listener's read-buffer), the rest in a temporary file that is
// unlinked as soon as it is open (nothing is left behind, whatever happens to spry), and at most
// `maxBytes` in all (--limit-post, or HELD_BODY_MAX_BYTES without it): past that, 413.
// A held body can be sent more than once: a retry on another backend sends it again.

import { open, unlink, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerExchange } from '../exchange/exchange.ts';

/** Without --limit-post: 1 GiB of temporary file per request at most. */
export const HELD_BODY_MAX_BYTES = 1 << 30;
const FILE_READ_BYTES = 64 << 10;

export class BodyTooLarge extends Error {}

/** Where a held body goes: a backend connection, with its backpressure. */
export interface BodyTarget {
  readonly destroyed: boolean;
  /** False when full: whenDrained() resolves once it is not (or the target is gone). */
  write(chunk: Buffer): boolean;
  whenDrained(): Promise<void>;
}

export class HeldBody {
  private readonly memory: Buffer[];
  private readonly file: FileHandle | undefined;
  private readonly fileBytes: number;
  readonly length: number;

  constructor(memory: Buffer[], file: FileHandle | undefined, fileBytes: number, length: number) {
    this.memory = memory;
    this.file = file;
    this.fileBytes = fileBytes;
    this.length = length;
  }

  /** Writes the whole body to `target`, with its backpressure; resolves once all is handed over. */
  async writeTo(target: BodyTarget): Promise<void> {
    for (const chunk of this.memory) if (!target.write(chunk)) await target.whenDrained();
    if (this.file === undefined) return;
    for (let position = 0; position < this.fileBytes && !target.destroyed; ) {
      const { buffer, bytesRead } = await this.file.read(Buffer.allocUnsafe(FILE_READ_BYTES), 0, FILE_READ_BYTES, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      if (!target.write(buffer.subarray(0, bytesRead))) await target.whenDrained();
    }
  }

  dispose(): void {
    void this.file?.close().catch(() => {});
  }
}

/** Reads the exchange's whole body; rejects with BodyTooLarge past `maxBytes`, or if the client goes away. */
export function holdBody(exchange: ServerExchange, memoryBytes: number, maxBytes: number): Promise<HeldBody> {
  return new Promise((resolve, reject) => {
    const memory: Buffer[] = [];
    let inMemory = 0;
    let total = 0;
    let file: FileHandle | undefined;
    let fileBytes = 0;
    let writing: Promise<void> = Promise.resolve();
    let failed = false;
    const fail = (error: Error): void => {
      if (failed) return;
      failed = true;
      void writing.finally(() => file?.close().catch(() => {}));
      reject(error);
    };
    const spill = async (chunk: Buffer): Promise<void> => {
      if (file === undefined) {
        const path = join(tmpdir(), `spry-body-${process.pid}-${Math.random().toString(36).slice(2)}`);
        file = await open(path, 'w+', 0o600);
        await unlink(path);
      }
      await file.write(chunk, 0, chunk.length, fileBytes);
      fileBytes += chunk.length;
    };
    exchange.onAbort = (reason) => fail(reason);
    exchange.sendContinue?.();
    exchange.setBodySink({
      data: (chunk) => {
        if (failed) return true;
        total += chunk.length;
        if (total > maxBytes) {
          fail(new BodyTooLarge(`the request body is larger than ${maxBytes} bytes`));
          return true;
        }
        if (file === undefined && inMemory + chunk.length <= memoryBytes) {
          memory.push(chunk);
          inMemory += chunk.length;
          return true;
        }
        // To the file, one write at a time: delivery pauses until it is on disk.
        writing = writing.then(() => spill(chunk)).then(
          () => exchange.resumeBody(),
          (error: unknown) => fail(error as Error),
        );
        return false;
      },
      end: () => {
        void writing.then(() => {
          if (!failed) resolve(new HeldBody(memory, file, fileBytes, total));
        });
      },
    });
  });
}
