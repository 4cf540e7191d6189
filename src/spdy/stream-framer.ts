// Frames one stream's queued output for the scheduler: header blocks are compressed here, at
// send time, so the shared deflate context sees them in wire order (SPDY/3 §2.6.10.1); DATA goes out
// within the windows flow control allows.

import type { Socket } from 'node:net';
import { HeaderDeflater } from './compression.ts';
import type { FlowControl } from './flow-control.ts';
import { encodeDataHeader, encodeHeaders, encodeSynReply, encodeSynStream } from './frame-encoder.ts';
import { encodeHeaderBlock } from './header-block.ts';
import { appendHeaders, replyHeaders } from './request-head.ts';
import type { FrameWriter } from './scheduler.ts';
import type { OutboundItem, SpdyStream } from './stream.ts';
import type { SpdyVersion } from './versions.ts';

export class StreamFramer implements FrameWriter {
  private deflater: HeaderDeflater | null = null;
  private readonly socket: Socket;
  private readonly version: SpdyVersion;
  private readonly flow: FlowControl;
  private readonly maxDataFrameBytes: number;

  constructor(socket: Socket, version: SpdyVersion, flow: FlowControl, maxDataFrameBytes: number) {
    this.socket = socket;
    this.version = version;
    this.flow = flow;
    this.maxDataFrameBytes = maxDataFrameBytes;
  }

  heldBySessionWindow(stream: SpdyStream): boolean {
    return this.flow.sessionBlocked() && nextIsData(stream);
  }

  writeNext(stream: SpdyStream): boolean {
    if (stream.closed) return false;
    const item = stream.queue[0];
    if (item === undefined) return false;
    if (item.kind === 'headers') {
      stream.framesSent++;
      stream.queue.shift();
      this.socket.write(this.encodeHeaderFrame(stream, item));
      if (item.fin) stream.finSent();
      stream.schedulingPriority = stream.priority; // (a push's SYN_STREAM is out: its body waits its turn)
      return stream.queue.length > 0;
    }
    const remaining = item.chunk.length;
    const allowance = this.flow.allowance(stream, this.maxDataFrameBytes);
    if (allowance <= 0 && remaining > 0) return false; // blocked: a WINDOW_UPDATE reschedules it
    stream.framesSent++;
    const length = Math.min(allowance, remaining);
    const whole = length === remaining;
    const fin = item.fin && whole;
    this.socket.write(encodeDataHeader(stream.id, length, fin));
    if (length > 0) this.socket.write(whole ? item.chunk : item.chunk.subarray(0, length));
    this.flow.sent(stream, length);
    stream.sent(length);
    if (whole) {
      stream.queue.shift();
      item.callback?.();
      if (fin) stream.finSent();
    } else {
      item.chunk = item.chunk.subarray(length);
    }
    return stream.queue.length > 0 && !stream.closed;
  }

  /** An idle session gives back its deflate context's memory (see HeaderDeflater.release). */
  release(): number {
    return this.deflater?.release() ?? 0;
  }

  close(): void {
    this.deflater?.close();
  }

  private encodeHeaderFrame(stream: SpdyStream, item: Extract<OutboundItem, { kind: 'headers' }>): Buffer {
    const v = this.version;
    this.deflater ??= new HeaderDeflater(v.dictionary);
    if (item.frame === 'SYN_REPLY') {
      const block = this.deflater.deflate(encodeHeaderBlock(v, replyHeaders(v, item.status ?? 200, item.headers)));
      return encodeSynReply(v, stream.id, item.fin, block);
    }
    if (item.frame === 'SYN_STREAM') {
      const block = this.deflater.deflate(encodeHeaderBlock(v, item.headers));
      return encodeSynStream(v, { streamId: stream.id, associatedStreamId: item.associatedStreamId, priority: stream.priority, fin: item.fin, unidirectional: (item.associatedStreamId ?? 0) !== 0 }, block);
    }
    const block = this.deflater.deflate(encodeHeaderBlock(v, appendHeaders([], item.headers)));
    return encodeHeaders(v, stream.id, item.fin, block);
  }
}

function nextIsData(stream: SpdyStream): boolean {
  const item = stream.queue[0];
  return item !== undefined && item.kind === 'data' && item.chunk.length > 0;
}
