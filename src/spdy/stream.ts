// One SPDY stream: its windows, its inbound body (delivered with backpressure, credit returned
// to the peer as it is consumed) and its outbound queue (framed by the session's scheduler).
// On the server it is the protocol's ServerExchange; our client uses the same object.

import type { BodySink, BufferSizes, FlatHeaders, RequestHead, ServerExchange } from '../exchange/exchange.ts';
import { SpryError } from '../errors.ts';
import type { PushedResource } from '../push/push-planner.ts';
import { NO_DECLARED_LENGTH } from '../exchange/declared-length.ts';
import { SendPhase, StreamState, afterLocalFin, afterRemoteFin } from './stream-state.ts';

/** What a stream needs from its session. */
export interface StreamOwner {
  /** The stream has something to send: put it on the scheduler's ready list. */
  wantsToSend(stream: SpdyStream): void;
  /** `bytes` of inbound DATA were consumed: the peer may send that much more. */
  consumed(stream: SpdyStream, bytes: number): void;
  /** Send RST_STREAM(status) and forget the stream. */
  resetStream(stream: SpdyStream, status: number): void;
  /** Both directions are done: forget the stream. */
  streamClosed(stream: SpdyStream): void;
  /** The app is about to send the response head: the moment to push what it links to. */
  willRespond(stream: SpdyStream, status: number, headers: FlatHeaders): void;
  /** Opens a push associated with `stream`; undefined if the session cannot push now. */
  push(stream: SpdyStream, resource: PushedResource): SpdyStream | undefined;
  /** writeBytes: per-stream outbound bytes above which write() asks the app to wait. */
  readonly buffers: BufferSizes;
}

/** An item on the outbound queue: a header block to compress at send time, or body bytes. */
export type OutboundItem =
  | {
      readonly kind: 'headers';
      readonly frame: 'SYN_STREAM' | 'SYN_REPLY' | 'HEADERS';
      readonly headers: FlatHeaders;
      fin: boolean;
      /** SYN_REPLY only: the response status. */
      readonly status?: number;
      /** SYN_STREAM only: a push names the stream it belongs to, and is unidirectional. */
      readonly associatedStreamId?: number;
    }
  | { readonly kind: 'data'; chunk: Buffer; fin: boolean; readonly callback: (() => void) | undefined };

export class SpdyStream implements ServerExchange {
  readonly id: number;
  /** The priority on the wire (0 most urgent). */
  readonly priority: number;
  /** The priority the scheduler serves it at (a push's SYN_STREAM goes at its page's). */
  schedulingPriority: number;
  private readonly owner: StreamOwner;
  /** Server side: the request. Client side: set by the client for its own bookkeeping. */
  head!: RequestHead;
  /**
   * Server side, from its SYN_STREAM until it reaches the app: the request's decoded headers
   * (read into `head` only then, so a stream the same read resets costs no head), and whether
   * a body follows them.
   */
  requestHeaders: FlatHeaders | null = null;
  requestHasBody = false;
  /** The request's content-length (NO_DECLARED_LENGTH: none) and the DATA bytes counted against it. */
  declaredBodyBytes = NO_DECLARED_LENGTH;
  receivedBodyBytes = 0;

  // Flow control: what we may still send, and what the peer may still send us.
  sendWindow: number;
  recvWindow: number;
  /** Consumed bytes not yet returned to the peer with WINDOW_UPDATE. */
  pendingCredit = 0;

  /** Which FINs went over the wire, or whether the stream was reset (see stream-state.ts). */
  state: StreamState = StreamState.OPEN;
  /** How far our side is queued: head, body, FIN. */
  sendPhase: SendPhase = SendPhase.AWAITING_HEAD;

  // Inbound.
  private sink: BodySink | null = null;
  private inbound: Buffer[] | null = null;
  private inboundEnded = false;
  private paused = false;

  // Outbound.
  readonly queue: OutboundItem[] = [];
  queuedBytes = 0;
  /** On the scheduler's ready list (or waiting aside for the session window). */
  scheduled = false;
  /** Frames the framer wrote for this stream; the stall watch compares it between checks. */
  framesSent = 0;
  framesSentAtCheck = 0;
  /** Consecutive stall checks that found this stream blocked without progress. */
  stalledChecks = 0;
  private needDrain = false;

  /** A request the peer opened to us (server side). */
  readonly isServerStream: boolean;
  /** Client side: the SYN_REPLY arrived. */
  gotReply = false;
  /** A push we opened (server side): the request stream it is associated with; 0 otherwise. */
  associatedStreamId = 0;

  onDrain: (() => void) | null = null;
  onAbort: ((reason: Error) => void) | null = null;
  /** Client side: the response headers (SYN_REPLY) arrived. */
  onResponse: ((headers: FlatHeaders) => void) | null = null;
  /** Further header blocks (HEADERS frames). */
  onHeaders: ((headers: FlatHeaders) => void) | null = null;

  get buffers(): BufferSizes {
    return this.owner.buffers;
  }

  /** The peer's FIN arrived. */
  get remoteFin(): boolean {
    return this.state === StreamState.HALF_CLOSED_REMOTE || this.state === StreamState.CLOSED;
  }

  /** Our FIN went out on the wire. */
  get localFin(): boolean {
    return this.state === StreamState.HALF_CLOSED_LOCAL || this.state === StreamState.CLOSED;
  }

  /** Our FIN is queued: nothing more may be written. */
  get localFinQueued(): boolean {
    return this.sendPhase === SendPhase.FIN_QUEUED;
  }

  /** The headers that open our side (SYN_REPLY, or SYN_STREAM for our own streams) were queued. */
  get responded(): boolean {
    return this.sendPhase !== SendPhase.AWAITING_HEAD;
  }

  /** Closed, by both FINs or by a reset. */
  get closed(): boolean {
    return this.state >= StreamState.CLOSED;
  }

  /** Reset, or cut off by the session, before both FINs. */
  get aborted(): boolean {
    return this.state === StreamState.RESET;
  }

  constructor(owner: StreamOwner, id: number, priority: number, sendWindow: number, recvWindow: number, isServerStream = false) {
    this.owner = owner;
    this.isServerStream = isServerStream;
    this.id = id;
    this.priority = priority;
    this.schedulingPriority = priority;
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }

  // ── inbound ──────────────────────────────────────────────────────────────

  setBodySink(sink: BodySink): void {
    this.sink = sink;
    this.drainInbound();
  }

  resumeBody(): void {
    if (!this.paused) return;
    this.paused = false;
    this.drainInbound();
  }

  /** Called by the session for each DATA piece (already charged to the windows). */
  receiveData(chunk: Buffer, fin: boolean): void {
    if (chunk.length > 0) {
      if (this.sink !== null && !this.paused && this.inbound === null) {
        this.deliver(chunk);
      } else {
        // Copy: the chunk is a view into the socket's buffer.
        (this.inbound ??= []).push(Buffer.from(chunk));
      }
    }
    if (fin) this.receiveFin();
  }

  receiveFin(): void {
    if (this.remoteFin || this.closed) return;
    this.state = afterRemoteFin(this.state);
    this.inboundEnded = true;
    if (this.inbound === null && this.sink !== null) this.sink.end();
    this.maybeClose();
  }

  /** After the response is done, an unread upload is discarded, its credit returned at once. */
  discardInbound(): void {
    if (this.sink !== null && !this.paused) return;
    let bytes = 0;
    if (this.inbound !== null) for (const chunk of this.inbound) bytes += chunk.length;
    this.inbound = null;
    this.paused = false;
    this.sink = DISCARD;
    if (bytes > 0) this.owner.consumed(this, bytes);
  }

  private deliver(chunk: Buffer): void {
    const length = chunk.length;
    if (this.sink!.data(chunk) === false) this.paused = true;
    this.owner.consumed(this, length);
  }

  private drainInbound(): void {
    const queued = this.inbound;
    if (this.sink === null) return;
    if (queued !== null) {
      while (queued.length > 0 && !this.paused) this.deliver(queued.shift()!);
      if (queued.length > 0) return;
      this.inbound = null;
    }
    if (this.inboundEnded && !this.paused) {
      this.inboundEnded = false;
      this.sink.end();
    }
  }

  // ── outbound ─────────────────────────────────────────────────────────────

  respond(status: number, headers: FlatHeaders, endStream: boolean): void {
    if (this.responded) throw new SpryError('SPRY_ERR_SPDY_STREAM_STATE', `stream ${this.id} already responded`);
    this.owner.willRespond(this, status, headers);
    this.sendPhase = SendPhase.BODY;
    this.enqueue({ kind: 'headers', frame: 'SYN_REPLY', status, headers, fin: endStream });
    if (endStream) this.finishLocal();
  }

  /** Queues a HEADERS frame (trailers when `fin`). */
  sendHeaders(headers: FlatHeaders, fin: boolean): void {
    if (this.localFinQueued) return;
    this.enqueue({ kind: 'headers', frame: 'HEADERS', headers, fin });
    if (fin) this.finishLocal();
  }

  write(chunk: Buffer, callback?: () => void): boolean {
    if (this.localFinQueued || this.aborted) {
      callback?.();
      return false;
    }
    if (chunk.length === 0) {
      callback?.();
      return this.queuedBytes < this.owner.buffers.writeBytes;
    }
    this.queuedBytes += chunk.length;
    this.enqueue({ kind: 'data', chunk, fin: false, callback });
    if (this.queuedBytes < this.owner.buffers.writeBytes) return true;
    this.needDrain = true;
    return false;
  }

  end(chunk?: Buffer, callback?: () => void): void {
    if (this.localFinQueued || this.aborted) {
      callback?.();
      return;
    }
    const last = chunk ?? EMPTY;
    const tail = this.queue[this.queue.length - 1];
    if (last.length === 0 && tail !== undefined && (tail.kind === 'headers' || tail.callback === undefined)) {
      // The frame still queued last carries the FIN itself: no empty DATA frame just for it.
      tail.fin = true;
      this.finishLocal();
      callback?.();
      return;
    }
    this.queuedBytes += last.length;
    this.enqueue({ kind: 'data', chunk: last, fin: true, callback });
    this.finishLocal();
  }

  abort(): void {
    if (this.closed) return;
    this.owner.resetStream(this, 6 /* INTERNAL_ERROR */);
  }

  /** Pushes `resource` on a new stream associated with this one (see SpdySession.push). */
  push(resource: PushedResource): SpdyStream | undefined {
    return this.owner.push(this, resource);
  }

  /** Client side (and pushes): queue the SYN_STREAM that opens this stream. */
  open(headers: FlatHeaders, fin: boolean, associatedStreamId = 0): void {
    this.sendPhase = SendPhase.BODY;
    this.enqueue({ kind: 'headers', frame: 'SYN_STREAM', headers, fin, associatedStreamId });
    if (fin) this.finishLocal();
  }

  private enqueue(item: OutboundItem): void {
    this.queue.push(item);
    if (!this.scheduled) this.owner.wantsToSend(this);
  }

  private finishLocal(): void {
    this.sendPhase = SendPhase.FIN_QUEUED;
    // A server that has answered needs no more of the upload: what the app did not read is
    // dropped and its window returned, so the client is never left stalled.
    if (this.isServerStream && !this.closed && (!this.remoteFin || this.inbound !== null)) this.discardInbound();
  }

  /** The peer never sends on this stream (a push, seen from either end). */
  markRemoteDone(): void {
    this.state = afterRemoteFin(this.state);
  }

  /** We never send on this stream (a push, seen by the client that receives it). */
  markLocalDone(): void {
    this.sendPhase = SendPhase.FIN_QUEUED;
    this.state = afterLocalFin(this.state);
  }

  /** Called by the scheduler after it took `bytes` of body off the queue. */
  sent(bytes: number): void {
    this.queuedBytes -= bytes;
    if (this.needDrain && this.queuedBytes < this.owner.buffers.writeBytes / 2) {
      this.needDrain = false;
      this.onDrain?.();
    }
  }

  /** Called by the scheduler when the FIN has been written. */
  finSent(): void {
    if (this.closed) return;
    this.state = afterLocalFin(this.state);
    this.maybeClose();
  }

  private maybeClose(): void {
    if (this.state === StreamState.CLOSED) this.owner.streamClosed(this);
  }

  /**
   * The stream is gone (reset by either side, or the session ended): fail whatever waits.
   * `reason` may be a function that makes it, called only if something waits (an Error's
   * stack trace is most of what a reset stream costs, and a rapid reset sends thousands).
   */
  terminate(reason: Error | (() => Error)): void {
    if (this.closed) return;
    this.state = StreamState.RESET;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.inbound = null;
    this.onAbort?.(typeof reason === 'function' ? reason() : reason);
  }
}

const EMPTY = Buffer.alloc(0);

const DISCARD: BodySink = {
  data: () => true,
  end: () => {},
};
