// One node:http2 server stream as a ServerExchange. node:http2 does the framing, HPACK and flow
// control: reading the stream's body is what opens its window, so pausing it is backpressure.

import { constants, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { CONNECTION_HEADERS } from '../exchange/connection-headers.ts';
import type { BodySink, ConnectionInfo, FlatHeaders, RequestHead, ServerExchange } from '../exchange/exchange.ts';


export class Http2Exchange implements ServerExchange {
  readonly head: RequestHead;
  aborted = false;
  responded = false;
  onDrain: (() => void) | null = null;
  onAbort: ((reason: Error) => void) | null = null;
  private readonly stream: ServerHttp2Stream;
  private ended = false;

  constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[] | undefined, connection: ConnectionInfo) {
    this.stream = stream;
    this.head = requestHead(stream, headers, rawHeaders, connection);
    stream.on('drain', () => this.onDrain?.());
    stream.on('close', () => {
      if (this.ended && stream.rstCode === constants.NGHTTP2_NO_ERROR) return;
      if (this.aborted) return;
      this.aborted = true;
      this.onAbort?.(new Error(`the client reset stream ${stream.id} (code ${stream.rstCode})`));
    });
    stream.on('error', () => {}); // 'close' follows and reports it
  }

  setBodySink(sink: BodySink): void {
    const stream = this.stream;
    stream.on('data', (chunk: Buffer) => {
      if (sink.data(chunk) === false) stream.pause();
    });
    stream.on('end', () => sink.end());
  }

  resumeBody(): void {
    this.stream.resume();
  }

  respond(status: number, headers: FlatHeaders, endStream: boolean): void {
    this.responded = true;
    if (this.aborted || this.stream.destroyed) return;
    const out: OutgoingHttpHeaders = { ':status': status };
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i].toLowerCase();
      if (CONNECTION_HEADERS.has(name)) continue;
      const value = headers[i + 1];
      const previous = out[name];
      if (previous === undefined) out[name] = value;
      else if (Array.isArray(previous)) previous.push(value);
      else out[name] = [String(previous), value];
    }
    if (endStream) this.ended = true;
    this.stream.respond(out, { endStream });
  }

  write(chunk: Buffer, callback?: () => void): boolean {
    if (this.aborted || this.stream.destroyed) {
      callback?.();
      return false;
    }
    // The last chunk of a response usually comes in the same tick as end(): hold one chunk back
    // so they leave together as one DATA frame with END_STREAM. Otherwise the write is still in
    // flight when node:http2 closes the finished stream, and Node builds an ERR_STREAM_DESTROYED
    // error for its callback, stack trace and all, on every response.
    this.flushHeld();
    this.held = chunk;
    this.heldCallback = callback;
    queueMicrotask(this.flushHeldBound);
    return this.stream.writableLength < this.stream.writableHighWaterMark;
  }

  end(chunk?: Buffer, callback?: () => void): void {
    this.ended = true;
    if (this.aborted || this.stream.destroyed) {
      this.held = null;
      this.heldCallback?.();
      callback?.();
      return;
    }
    let last = chunk;
    if (this.held !== null) {
      last = chunk === undefined ? this.held : Buffer.concat([this.held, chunk]);
      const heldCallback = this.heldCallback;
      this.held = null;
      this.heldCallback = undefined;
      if (heldCallback !== undefined) this.stream.once('finish', heldCallback);
    }
    if (last !== undefined) this.stream.end(last, callback);
    else this.stream.end(callback);
  }

  private held: Buffer | null = null;
  private heldCallback: (() => void) | undefined;
  private readonly flushHeldBound = () => this.flushHeld();

  private flushHeld(): void {
    const held = this.held;
    if (held === null) return;
    this.held = null;
    const callback = this.heldCallback;
    this.heldCallback = undefined;
    if (this.aborted || this.stream.destroyed) callback?.();
    else this.stream.write(held, callback);
  }

  abort(): void {
    if (this.stream.destroyed) return;
    this.aborted = true;
    // Not stream.close(code): node:http2 ends the writable side first, so the peer sees
    // END_STREAM (a truncated body that looks complete) and the RST_STREAM after it is dropped.
    // destroy(error) skips the END_STREAM and sends RST_STREAM(INTERNAL_ERROR).
    this.stream.destroy(new Error('the response was abandoned'));
  }
}

function requestHead(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[] | undefined, connection: ConnectionInfo): RequestHead {
  const flat: FlatHeaders = [];
  if (rawHeaders !== undefined) {
    for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].charCodeAt(0) !== 58 /* ':' */) flat.push(rawHeaders[i], rawHeaders[i + 1]);
  } else {
    for (const [name, value] of Object.entries(headers)) {
      if (name.charCodeAt(0) === 58 || value === undefined) continue;
      for (const one of Array.isArray(value) ? value : [value]) flat.push(name, one);
    }
  }
  return {
    method: String(headers[':method'] ?? 'GET'),
    target: String(headers[':path'] ?? '/'),
    authority: String(headers[':authority'] ?? headers.host ?? ''),
    scheme: String(headers[':scheme'] ?? (connection.secure ? 'https' : 'http')),
    httpVersion: '2.0',
    headers: flat,
    connection,
    protocol: { kind: 'h2', streamId: stream.id ?? 0 },
    hasBody: !stream.endAfterHeaders,
  };
}
