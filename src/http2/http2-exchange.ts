// One node:http2 server stream as a ServerExchange. node:http2 does the framing, HPACK and flow
// control: reading the stream's body is what opens its window, so pausing it is backpressure.

import type { Duplex } from 'node:stream';
import { constants, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { CONNECTION_HEADERS } from '../exchange/connection-headers.ts';
import type { ConnectionInfo } from '../exchange/connection-info.ts';
import type { BodySink, BufferSizes, FlatHeaders, RequestHead, ServerExchange } from '../exchange/exchange.ts';
import { setHighWaterMarks } from '../internals/node-internals.ts';
import type { PushedResource, PushPlanner } from '../push/push-planner.ts';
import { Http2PushSink } from './push-sink.ts';
import type { Http2StallWatch } from './stall-watch.ts';

/** What an HTTP/2 stream buffers of its upload once the app paused it: one default-size frame. */
const H2_STREAM_READ_BYTES = 16 << 10;

/** What the streams of one HTTP/2 connection share. */
export interface Http2SessionState {
  readonly connection: ConnectionInfo;
  readonly buffers: BufferSizes;
  /** Resets streams the client keeps from sending (--http-timeout); shared by the front end. */
  readonly stalls: Http2StallWatch | undefined;
  readonly pushPlanner: PushPlanner | undefined;
  /** Paths pushed on this connection already. */
  readonly pushedPaths: Set<string>;
  /** Pushes not yet closed: the client's SETTINGS_MAX_CONCURRENT_STREAMS bounds them. */
  openPushes: number;
  /** Request streams not yet closed: a session with none is idle. */
  openStreams: number;
  /** Extended CONNECT streams apps hold (tunnel.ts), closed when a drain's grace ends. */
  readonly tunnels: Set<Duplex>;
}


export class Http2Exchange implements ServerExchange {
  readonly head: RequestHead;
  readonly buffers: BufferSizes;
  aborted = false;
  responded = false;
  onDrain: (() => void) | null = null;
  onAbort: ((reason: Error) => void) | null = null;
  /** Body bytes handed to the stream so far (the stall watch's measure of progress). */
  bodyBytesWritten = 0;
  readonly stream: ServerHttp2Stream;
  private readonly state: Http2SessionState;
  private ended = false;
  private sink: BodySink | null = null;
  private drainListened = false;
  private continued = false;

  constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[] | undefined, state: Http2SessionState) {
    this.stream = stream;
    this.state = state;
    this.head = requestHead(stream, headers, rawHeaders, state.connection);
    const buffers = (this.buffers = state.buffers);
    // The app's own request buffer holds read-buffer; behind it the stream keeps at most one
    // DATA frame's worth (flowing, it hands chunks straight on), so an app that stops reading
    // holds read-buffer of upload, not twice that.
    if (stream.writableHighWaterMark !== buffers.writeBytes || stream.readableHighWaterMark !== H2_STREAM_READ_BYTES) {
      setHighWaterMarks(stream, { writeBytes: buffers.writeBytes, readBytes: H2_STREAM_READ_BYTES });
    }
    (stream as Carrier)[kExchange] = this;
    state.openStreams++;
    state.stalls?.watch(this);
    stream.on('close', onStreamClose); // (the front end ignores 'error': 'close' follows and reports it)
  }

  /** The stream closed: a reset (by the client, or ours) unless our response ended it cleanly. */
  closed(): void {
    this.state.openStreams--;
    this.state.stalls?.unwatch(this);
    if (!(this.ended && this.stream.rstCode === constants.NGHTTP2_NO_ERROR) && !this.aborted) {
      this.aborted = true;
      this.onAbort?.(new Error(`the client reset stream ${this.stream.id} (code ${this.stream.rstCode})`));
    }
    // Cut the links to the app's objects. An exchange that lived through a scavenge was
    // promoted; dead there, it still holds whatever young objects it points at through every
    // scavenge until the next full GC, and those keep what they point at: with these links, h2
    // scavenges kept ~25 MB each under load (4 x 100 streams), without them ~11 (bare node:http2 ~15
    // in that mode, ~1.5 in the other).
    (this.stream as Carrier)[kExchange] = undefined;
    this.sink = null;
    this.onAbort = null;
    this.onDrain = null;
  }

  setBodySink(sink: BodySink): void {
    this.sink = sink;
    // No body (END_STREAM came with the HEADERS): the stream's readable side is left unread.
    // Once read to its end, node:http2 destroys the stream the moment nghttp2 closes it, while
    // the write that carried the response's last bytes is still completing, and builds an
    // ERR_STREAM_DESTROYED (stack trace and all) for that write's end; unread, it waits.
    if (this.stream.endAfterHeaders) process.nextTick(endSink, sink);
    else {
      this.stream.on('data', onStreamData);
      this.stream.on('end', onStreamEnd);
    }
  }

  sinkData(chunk: Buffer): boolean {
    return this.sink!.data(chunk);
  }

  sinkEnd(): void {
    this.sink!.end();
  }

  resumeBody(): void {
    if (!this.stream.endAfterHeaders) this.stream.resume();
  }

  /** RFC 9110 §10.1.1: the client waits for a 100 before sending the body it announced. */
  sendContinue(): void {
    const stream = this.stream;
    if (this.continued || this.responded || stream.destroyed || stream.headersSent) return;
    this.continued = true;
    if (!/100-continue/i.test(this.expect())) return;
    stream.additionalHeaders({ ':status': 100 });
  }

  private expect(): string {
    const headers = this.head.headers;
    for (let i = 0; i < headers.length; i += 2) if (headers[i] === 'expect') return headers[i + 1];
    return '';
  }

  respond(status: number, headers: FlatHeaders, endStream: boolean): void {
    const out = this.responseHead(status, headers);
    if (out === undefined) return;
    if (endStream) this.ended = true;
    // waitForTrailers keeps node:http2 from closing (and destroying) the stream the moment
    // END_STREAM is queued, while the write that carried the last chunk is still completing:
    // Node then builds an ERR_STREAM_DESTROYED, stack trace and all, for every response. The
    // END_STREAM goes out on an empty DATA frame once the body is written, as Node's own
    // compatibility API does.
    if (!endStream) this.stream.on('wantTrailers', sendNoTrailers);
    this.stream.respond(out, endStream ? HEADERS_ONLY : HEADERS_THEN_BODY);
  }

  /**
   * The head and the whole body handed over in the same tick, as node:http2's own examples do:
   * the body's write ends the stream itself (no wantTrailers, no empty DATA frame). A 4 KiB
   * static file over h2c: ~53 -> ~45 us of CPU per request.
   */
  respondWithBody(status: number, headers: FlatHeaders, body: Buffer): void {
    // A request body read to its end: the stream would be destroyed under the body's write
    // (setBodySink), which respond() and end() keep from happening.
    if (!this.stream.readable) {
      this.respond(status, headers, body.length === 0);
      if (body.length > 0) this.end(body);
      return;
    }
    const out = this.responseHead(status, headers);
    if (out === undefined) return;
    this.ended = true;
    if (body.length === 0) return this.stream.respond(out, HEADERS_ONLY);
    this.stream.respond(out, HEADERS_THEN_END);
    this.bodyBytesWritten += body.length;
    this.stream.end(body);
  }

  /**
   * The pushes the response links to, then its head for node:http2 as raw pairs (`:status`
   * first), which stream.respond() takes as they are: an object it would copy into one of its
   * own first. Undefined if the stream is gone.
   */
  private responseHead(status: number, headers: FlatHeaders): string[] | undefined {
    if (this.aborted || this.stream.destroyed) {
      this.responded = true;
      return undefined;
    }
    // Pushes first: their PUSH_PROMISEs go out before the HEADERS that carry the Link header.
    this.state.pushPlanner?.(this, status, headers, this.state.pushedPaths);
    this.responded = true;
    const out = [':status', String(status)];
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i].toLowerCase();
      if (!CONNECTION_HEADERS.has(name)) out.push(name, headers[i + 1]);
    }
    return out;
  }

  write(chunk: Buffer, callback?: () => void): boolean {
    if (this.aborted || this.stream.destroyed) {
      callback?.();
      return false;
    }
    this.bodyBytesWritten += chunk.length;
    if (this.stream.write(chunk, callback)) return true;
    // Listened for only once needed: most responses never fill the stream's buffer.
    if (!this.drainListened) {
      this.drainListened = true;
      this.stream.on('drain', onStreamDrain);
    }
    return false;
  }

  end(chunk?: Buffer, callback?: () => void): void {
    this.ended = true;
    if (this.aborted || this.stream.destroyed) {
      callback?.();
      return;
    }
    if (chunk !== undefined) {
      this.bodyBytesWritten += chunk.length;
      this.stream.end(chunk, callback);
    }
    else this.stream.end(callback);
  }

  /**
   * Pushes `resource` with a PUSH_PROMISE on this stream, unless the client turned push off
   * (SETTINGS_ENABLE_PUSH=0: `pushAllowed` is false) or has as many pushes open as its
   * SETTINGS_MAX_CONCURRENT_STREAMS allows. Before this stream's own response ends.
   */
  push(resource: PushedResource): Http2PushSink | undefined {
    const stream = this.stream;
    const state = this.state;
    // No planner: push=0 on this listener, which turns res.push() off too.
    if (state.pushPlanner === undefined || this.aborted || this.ended || stream.destroyed || !stream.pushAllowed) return undefined;
    const session = stream.session;
    if (session === undefined || session.closed || session.destroyed) return undefined;
    if (state.openPushes >= (session.remoteSettings.maxConcurrentStreams ?? Infinity)) return undefined;
    const request: OutgoingHttpHeaders = { ':method': 'GET', ':path': resource.path, ':authority': resource.authority, ':scheme': resource.scheme };
    addFlat(request, resource.requestHeaders);
    const head: OutgoingHttpHeaders = { ':status': resource.status };
    addFlat(head, resource.headers);
    const sink = new Http2PushSink(state.buffers.writeBytes);
    state.openPushes++;
    let counted = true;
    const release = () => {
      if (counted) state.openPushes--;
      counted = false;
    };
    try {
      stream.pushStream(request, (error, pushStream) => {
        if (error !== null) {
          release();
          return sink.lost(error);
        }
        pushStream.on('error', () => {}); // a client's RST_STREAM of the push: the sink reports it
        pushStream.once('close', release);
        if (pushStream.destroyed) {
          release();
          return sink.lost(new Error('the push stream closed before it opened'));
        }
        const body = resource.body;
        sink.attach(pushStream, head, body?.length === 0);
        if (body !== undefined && body.length > 0) sink.end(body);
      });
    } catch {
      release();
      return undefined;
    }
    return sink;
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

// Handlers shared by every stream (no closures per request); the stream knows its exchange.
const kExchange = Symbol('spry.exchange');
type Carrier = ServerHttp2Stream & { [kExchange]?: Http2Exchange };

function onStreamDrain(this: Carrier): void {
  this[kExchange]!.onDrain?.();
}

function onStreamClose(this: Carrier): void {
  this[kExchange]!.closed();
}

function onStreamData(this: Carrier, chunk: Buffer): void {
  if (this[kExchange]!.sinkData(chunk) === false) this.pause();
}

function onStreamEnd(this: Carrier): void {
  this[kExchange]!.sinkEnd();
}

function endSink(sink: BodySink): void {
  sink.end();
}

const HEADERS_ONLY = Object.freeze({ endStream: true, waitForTrailers: false });
const HEADERS_THEN_BODY = Object.freeze({ endStream: false, waitForTrailers: true });
const HEADERS_THEN_END = Object.freeze({ endStream: false, waitForTrailers: false });

function sendNoTrailers(this: ServerHttp2Stream): void {
  if (!this.destroyed) this.sendTrailers({});
}

/** Flat header pairs into node:http2's object form, repeated names as arrays (lower case). */
function addFlat(target: OutgoingHttpHeaders, flat: FlatHeaders | undefined): void {
  if (flat === undefined) return;
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i].toLowerCase();
    if (CONNECTION_HEADERS.has(name)) continue;
    const previous = target[name];
    if (previous === undefined) target[name] = flat[i + 1];
    else if (Array.isArray(previous)) previous.push(flat[i + 1]);
    else target[name] = [String(previous), flat[i + 1]];
  }
}

export function requestHead(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[] | undefined, connection: ConnectionInfo): RequestHead {
  return {
    method: String(headers[':method'] ?? 'GET'),
    target: String(headers[':path'] ?? '/'),
    authority: String(headers[':authority'] ?? headers.host ?? ''),
    scheme: String(headers[':scheme'] ?? (connection.secure ? 'https' : 'http')),
    httpVersion: '2.0',
    headers: rawHeaders === undefined ? regularFields(headers) : regularRawFields(rawHeaders),
    connection,
    protocol: { kind: 'h2', streamId: stream.id ?? 0 },
    hasBody: !stream.endAfterHeaders,
  };
}

/**
 * The request's fields without its pseudo-header fields, which nghttp2 has made sure come
 * first (RFC 9113 §8.3: a field block with one after a regular field is malformed, and it
 * resets the stream): the pairs after them, copied at once.
 */
function regularRawFields(rawHeaders: string[]): FlatHeaders {
  let start = 0;
  while (start < rawHeaders.length && rawHeaders[start].charCodeAt(0) === 58 /* ':' */) start += 2;
  return rawHeaders.slice(start);
}

/** The same from node:http2's headers object (a Node without the raw pairs). */
function regularFields(headers: IncomingHttpHeaders): FlatHeaders {
  const flat: FlatHeaders = [];
  for (const [name, value] of Object.entries(headers)) {
    if (name.charCodeAt(0) === 58 || value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) flat.push(name, one);
  }
  return flat;
}
