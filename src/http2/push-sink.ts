// The body side of an h2 push. node:http2 hands over the pushed stream a tick after
// pushStream(), so what is written before then waits here (bounded by what the caller wrote
// before its first write() returned false: write() reports fullness by the bytes waiting).

import type { OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { PushSink } from '../exchange/exchange.ts';

type Pending = { readonly chunk: Buffer; readonly callback: (() => void) | undefined };

export class Http2PushSink implements PushSink {
  onDrain: (() => void) | null = null;
  onAbort: ((reason: Error) => void) | null = null;
  private stream: ServerHttp2Stream | undefined;
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private ending: { chunk: Buffer | undefined; callback: (() => void) | undefined } | undefined;
  private gone = false;
  private readonly highWaterMark: number;

  constructor(highWaterMark: number) {
    this.highWaterMark = highWaterMark;
  }

  /** The pushed stream exists now: its response head goes out, then what was written so far. */
  attach(stream: ServerHttp2Stream, head: OutgoingHttpHeaders, endsAtOnce: boolean): void {
    if (this.gone) {
      stream.close();
      return;
    }
    this.stream = stream;
    stream.on('drain', () => this.onDrain?.());
    stream.once('close', () => {
      if (!stream.writableFinished) this.lost(new Error(`the client reset push stream ${stream.id}`));
    });
    stream.respond(head, { endStream: endsAtOnce });
    if (endsAtOnce) return;
    for (const { chunk, callback } of this.pending) stream.write(chunk, callback);
    this.pending = [];
    this.pendingBytes = 0;
    if (this.ending !== undefined) this.finish(this.ending.chunk, this.ending.callback);
    else if (stream.writableLength < this.highWaterMark) this.onDrain?.();
  }

  /** pushStream() failed, or the session went before the stream came. */
  lost(reason: Error): void {
    if (this.gone) return;
    this.gone = true;
    this.pending = [];
    this.onAbort?.(reason);
  }

  write(chunk: Buffer, callback?: () => void): boolean {
    if (this.gone) return true;
    if (this.stream !== undefined) return this.stream.write(chunk, callback);
    this.pending.push({ chunk, callback });
    this.pendingBytes += chunk.length;
    return this.pendingBytes < this.highWaterMark;
  }

  end(chunk?: Buffer, callback?: () => void): void {
    if (this.gone) return callback?.();
    if (this.stream === undefined) this.ending = { chunk, callback };
    else this.finish(chunk, callback);
  }

  abort(): void {
    this.gone = true;
    this.pending = [];
    if (this.stream !== undefined && !this.stream.destroyed) this.stream.destroy(new Error('the push was abandoned'));
  }

  private finish(chunk: Buffer | undefined, callback: (() => void) | undefined): void {
    const stream = this.stream!;
    if (chunk !== undefined) stream.end(chunk, callback);
    else stream.end(callback);
  }
}
