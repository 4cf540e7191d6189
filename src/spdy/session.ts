// A SPDY session over one connection, for either end: it decodes frames, keeps the streams and
// their windows, answers PINGs, honours RST_STREAM and GOAWAY, enforces the limits it announced,
// and schedules outbound frames fairly across streams. Protocol errors become RST_STREAM or
// GOAWAY here (§12); the codec below only reports them.

import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { StreamTuning } from '../config/config.ts';
import { SpryError } from '../errors.ts';
import type { BufferSizes, ConnectionInfo, FlatHeaders } from '../exchange/exchange.ts';
import { setHighWaterMarks } from '../exchange/high-water-marks.ts';
import type { PushedResource, PushPlanner } from '../push/push-planner.ts';
import { HeaderDeflater, HeaderInflater } from './compression.ts';
import {
  DEFAULT_WINDOW_BYTES,
  FrameType,
  GoawayStatus,
  MAX_STREAM_ID,
  MAX_WINDOW_BYTES,
  RstStatus,
  SettingsId,
  rstStatusName,
} from './constants.ts';
import { FrameDecoder } from './frame-decoder.ts';
import {
  encodeDataHeader,
  encodeGoaway,
  encodeHeaders,
  encodePing,
  encodeRstStream,
  encodeSettings,
  encodeSynReply,
  encodeSynStream,
  encodeWindowUpdate,
} from './frame-encoder.ts';
import type { ControlFrame, FrameSink, GoawayFrame, SettingsEntry, SettingsFrame, SynStreamFrame } from './frames.ts';
import { decodeHeaderBlock, encodeHeaderBlock } from './header-block.ts';
import { SpdySessionError, SpdyStreamError, type SpdyProtocolError } from './protocol-error.ts';
import { appendHeaders, pushHeaders, replyHeaders, requestHeadFromHeaders } from './request-head.ts';
import { type OutboundItem, SpdyStream, type StreamOwner } from './stream.ts';
import type { SpdyVersion } from './versions.ts';

export interface SpdySessionOptions {
  readonly version: SpdyVersion;
  readonly role: 'server' | 'client';
  readonly tuning: StreamTuning;
  /** Close the connection after this long without traffic (0: never). */
  readonly idleTimeoutMs: number;
  readonly connection: ConnectionInfo;
  /** Server: pushes what responses link to with rel=preload (absent: no push). */
  readonly pushPlanner?: PushPlanner;
}

/** The smallest WINDOW_UPDATE sent for consumed bytes. */
const MIN_CREDIT_STEP_BYTES = 32 << 10;
/** How long consumed credit below a step may wait for more before it goes back anyway. */
const CREDIT_QUIET_MS = 20;

/**
 * Consumed bytes go back to the peer in WINDOW_UPDATEs of a quarter of the window granted (at
 * least 32 KiB): the peer keeps three quarters of its window to send on meanwhile, and a bulk
 * transfer costs the peer one frame to read per quarter window rather than one per 32 KiB (each
 * a TLS record of its own). With 1 MiB windows, one stream's uploads moved 15-30% more bytes a
 * second, downloads about as many or a few percent more (their limit lies elsewhere).
 *
 * What is left below a step goes back once the transfer has been quiet for CREDIT_QUIET_MS:
 * a peer that ignored our SETTINGS (or 3.1's session WINDOW_UPDATE) and keeps to the default
 * 64 KiB window, which a step could outgrow, then waits that long, never for ever.
 */
export function creditStep(windowBytes: number): number {
  return Math.max(MIN_CREDIT_STEP_BYTES, windowBytes >> 2);
}
/** After GOAWAY for an error, how long the peer gets to read it before the socket is destroyed. */
const CLOSE_GRACE_MS = 1000;
/** How many recently reset stream ids we remember, to drop their in-flight DATA quietly. */
const RECENTLY_RESET_MEMORY = 64;

export interface SpdySessionEvents {
  /** Server: a new request stream. */
  stream: [stream: SpdyStream];
  /** Client: the server pushed a stream associated with `associatedStreamId`. */
  push: [stream: SpdyStream, headers: FlatHeaders, associatedStreamId: number];
  goaway: [lastGoodStreamId: number, status: number | undefined];
  /** A protocol error by the peer (after the RST_STREAM or GOAWAY went out), for logs. */
  protocolError: [error: SpdyProtocolError];
  settings: [frame: SettingsFrame];
  close: [];
}

export class SpdySession extends EventEmitter<SpdySessionEvents> implements FrameSink, StreamOwner {
  readonly version: SpdyVersion;
  readonly role: 'server' | 'client';
  readonly socket: Socket;
  readonly connection: ConnectionInfo;
  private readonly tuning: StreamTuning;
  private readonly decoder: FrameDecoder;
  private readonly inflater: HeaderInflater;
  private deflater: HeaderDeflater | null = null;

  readonly streams = new Map<number, SpdyStream>();
  private peerStreamCount = 0;
  /** Open pushes: the peer's SETTINGS_MAX_CONCURRENT_STREAMS bounds them. */
  private pushStreamCount = 0;
  /** Open pushes by the request they came with, which a client may cancel even after it ended. */
  private readonly pushesByRequest = new Map<number, Set<SpdyStream>>();
  private readonly pushPlanner: PushPlanner | undefined;
  /** Paths pushed on this connection already (the planner's per-connection memory). */
  private pushedPaths: Set<string> | null = null;
  readonly buffers: BufferSizes;
  /** Highest stream id the peer opened (GOAWAY's last-good-stream-id). */
  private lastPeerStreamId = 0;
  private nextLocalStreamId: number;
  private readonly recentlyReset: number[] = [];

  // Flow control, outbound: the peer's windows.
  private sendFlowControl: boolean;
  private peerInitialWindow = DEFAULT_WINDOW_BYTES;
  private sessionSendWindow = DEFAULT_WINDOW_BYTES;
  /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS (limits our pushes / client requests). */
  peerMaxConcurrentStreams = Infinity;
  // Flow control, inbound: what we announced.
  private readonly localInitialWindow: number;
  private sessionRecvWindow = DEFAULT_WINDOW_BYTES;
  /** How much consumed credit is returned at once, for a stream and for the session (3.1). */
  private readonly streamCreditStep: number;
  private readonly sessionCreditStep: number;
  private sessionPendingCredit = 0;
  /** Streams holding credit below a step, and the timer that returns it once they go quiet. */
  private readonly owedStreams = new Set<SpdyStream>();
  private creditTimer: NodeJS.Timeout | null = null;
  /** DATA frames received since the credit timer was armed: none means the transfer is quiet. */
  private dataSinceCreditTimer = 0;

  // Output scheduling.
  private readonly control: Buffer[] = [];
  /** Streams with something to send, one round-robin list per priority (0 most urgent). */
  private ready: SpdyStream[][] = emptyReadyLists();
  /** The most urgent priority that may have a ready stream (a hint: lists may have emptied). */
  private readyFrom = PRIORITY_LEVELS;
  private flushScheduled = false;

  private goawaySent = false;
  /** Bytes arrived since the last releaseIdleBuffers(). */
  private activeSinceSweep = true;
  goawayReceived = false;
  private closing = false;
  destroyed = false;
  private nextPingId: number;
  private readonly pings = new Map<number, (rttMs: number) => void>();
  private readonly flushBound = () => this.flush();

  constructor(socket: Socket, options: SpdySessionOptions) {
    super();
    this.socket = socket;
    this.version = options.version;
    this.role = options.role;
    this.tuning = options.tuning;
    this.connection = options.connection;
    this.nextLocalStreamId = this.role === 'client' ? 1 : 2;
    this.nextPingId = this.role === 'client' ? 1 : 2;
    this.sendFlowControl = this.version.flowControl !== 'opt-in';
    this.localInitialWindow = this.tuning.initialWindowBytes;
    this.streamCreditStep = creditStep(this.localInitialWindow);
    this.sessionCreditStep = creditStep(Math.max(DEFAULT_WINDOW_BYTES, this.tuning.sessionWindowBytes));
    this.pushPlanner = options.pushPlanner;
    this.buffers = { writeBytes: this.tuning.writeBufferBytes, readBytes: this.tuning.readBufferBytes };
    // The scheduler frames DATA until the socket reports it is full: write-buffer says when.
    setHighWaterMarks(socket, { writeBytes: this.buffers.writeBytes });
    this.decoder = new FrameDecoder(this.version, this, { maxControlFrameBytes: this.tuning.maxControlFrameBytes });
    this.inflater = new HeaderInflater(this.version.dictionary, this.tuning.maxHeaderBlockBytes);

    // Frames leave whole (the scheduler corks); Nagle would only hold a reply back until the
    // peer's delayed ACK of our SETTINGS (40 ms on Linux).
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onSocketData(chunk));
    socket.on('drain', this.flushBound);
    socket.on('close', () => this.onSocketClose());
    socket.on('error', () => {}); // 'close' follows; the streams learn of it there
    socket.on('end', () => this.onSocketClose());
    if (options.idleTimeoutMs > 0) {
      socket.setTimeout(options.idleTimeoutMs, () => this.onIdleTimeout());
    }
    this.sendInitialSettings();
  }

  // ── public API ───────────────────────────────────────────────────────────

  /** Client: opens a request stream. `headers` are regular headers; the reserved ones are built here. */
  request(
    target: { method: string; path: string; host: string; scheme?: string },
    headers: FlatHeaders = [],
    options: { endStream?: boolean; priority?: number } = {},
  ): SpdyStream {
    if (this.role !== 'client') throw new Error('request() is for client sessions');
    if (this.destroyed || this.goawaySent || this.goawayReceived) throw new SpryError('SPRY_ERR_SPDY_SESSION_CLOSED', 'the session is closing');
    const id = this.nextLocalStreamId;
    if (id > MAX_STREAM_ID) throw new SpryError('SPRY_ERR_SPDY_SESSION_CLOSED', 'stream ids are used up; open a new connection');
    this.nextLocalStreamId += 2;
    const priority = Math.min(Math.max(Math.trunc(options.priority ?? 0), 0), 0xff >> this.version.priorityShift);
    const stream = new SpdyStream(this, id, priority, this.peerInitialWindow, this.localInitialWindow);
    this.streams.set(id, stream);
    const names = this.version.headers;
    const block: FlatHeaders = [names.method, target.method, names.path, target.path, names.version, 'HTTP/1.1'];
    const scheme = target.scheme ?? 'https';
    block.push(names.host, target.host, names.scheme, scheme);
    appendHeaders(block, headers);
    stream.open(block, options.endStream ?? false);
    return stream;
  }

  /** Sends a PING; resolves with the round-trip time when the peer echoes it. */
  ping(): Promise<number> {
    const id = this.nextPingId;
    this.nextPingId = (this.nextPingId + 2) >>> 0;
    const started = performance.now();
    return new Promise((resolve) => {
      this.pings.set(id, () => resolve(performance.now() - started));
      this.sendControl(encodePing(this.version, id));
    });
  }

  /**
   * Called now and then by the front end: a session that has had no traffic and no open stream
   * since the last call gives back what it holds only for traffic (most of its header inflate
   * window, and its deflate context). Returns the bytes freed.
   */
  releaseIdleBuffers(): number {
    if (this.activeSinceSweep) {
      this.activeSinceSweep = false;
      return 0;
    }
    if (this.destroyed || this.streams.size > 0 || this.control.length > 0) return 0;
    return this.inflater.compact() + (this.deflater?.release() ?? 0);
  }

  /** Graceful close: GOAWAY(OK), no new streams, the connection ends when the last stream does. */
  close(): void {
    if (this.destroyed) return;
    this.sendGoaway(GoawayStatus.OK);
    this.closing = true;
    if (this.streams.size === 0) this.endSocket();
  }

  /** Hard close: every stream is aborted and the socket destroyed. */
  destroy(reason?: Error): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.socket.destroy();
    this.teardown(reason ?? new SpryError('SPRY_ERR_SPDY_SESSION_CLOSED', 'the session was destroyed'));
  }

  // ── inbound: FrameSink ───────────────────────────────────────────────────

  private onSocketData(chunk: Buffer): void {
    if (this.destroyed || this.decoder.failed) return;
    this.activeSinceSweep = true;
    this.socket.cork();
    this.decoder.push(chunk);
    this.socket.uncork();
  }

  onControlFrame(frame: ControlFrame): void {
    switch (frame.type) {
      case FrameType.SYN_STREAM:
        return this.onSynStream(frame);
      case FrameType.SYN_REPLY:
        return this.onReplyOrHeaders(frame.streamId, frame.headerBlock, frame.fin, true);
      case FrameType.HEADERS:
        return this.onReplyOrHeaders(frame.streamId, frame.headerBlock, frame.fin, false);
      case FrameType.RST_STREAM: {
        const stream = this.streams.get(frame.streamId);
        const reason = (): SpryError => new SpryError('SPRY_ERR_SPDY_STREAM_RESET', `the peer reset stream ${frame.streamId} (${rstStatusName(frame.status)})`);
        if (stream !== undefined) {
          this.forget(stream);
          stream.terminate(reason());
        }
        // Cancelling a request cancels the pushes that came with it, even once its own response
        // has ended (SPDY/3 §3.3.2).
        const pushes = this.pushesByRequest.get(frame.streamId);
        if (pushes !== undefined) {
          for (const push of [...pushes]) {
            this.forget(push);
            push.terminate(reason());
          }
        }
        return;
      }
      case FrameType.SETTINGS:
        return this.onSettings(frame);
      case FrameType.PING:
        return this.onPing(frame.id);
      case FrameType.GOAWAY:
        return this.onGoaway(frame);
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(frame.streamId, frame.delta);
      case FrameType.NOOP:
      case FrameType.CREDENTIAL:
        return; // NOOP means nothing; client certificates by CREDENTIAL are not supported (ignored).
    }
  }

  onData(streamId: number, chunk: Uint8Array, fin: boolean): void {
    const length = chunk.length;
    if (this.version.flowControl === 'stream-and-session') {
      // Every DATA byte counts against the session window, even for streams we drop (§6).
      this.sessionRecvWindow -= length;
      if (this.sessionRecvWindow < 0) {
        return this.fail(new SpdySessionError('SPRY_ERR_SPDY_FLOW_CONTROL', 'the peer overflowed the session window'));
      }
    }
    const stream = this.streams.get(streamId);
    if (stream === undefined) {
      this.returnSessionCredit(length);
      if (this.goawaySent || this.recentlyReset.includes(streamId) || this.wasOpened(streamId)) return;
      this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', streamId, RstStatus.INVALID_STREAM, `DATA on stream ${streamId}, which was never opened`));
      return;
    }
    if (stream.remoteFin) {
      this.returnSessionCredit(length);
      this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', streamId, RstStatus.STREAM_ALREADY_CLOSED, `DATA after FIN on stream ${streamId}`));
      return;
    }
    if (this.role === 'client' && !stream.isServerStream && stream.onResponse !== null && !stream.gotReply) {
      this.returnSessionCredit(length);
      this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', streamId, RstStatus.PROTOCOL_ERROR, `DATA before SYN_REPLY on stream ${streamId}`));
      return;
    }
    stream.recvWindow -= length;
    if (stream.recvWindow < 0 && this.version.flowControl !== 'opt-in') {
      this.returnSessionCredit(length);
      this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_FLOW_CONTROL', streamId, RstStatus.FLOW_CONTROL_ERROR, `the peer overflowed stream ${streamId}'s window`));
      return;
    }
    this.dataSinceCreditTimer++;
    stream.receiveData(chunk as Buffer, fin);
  }

  onProtocolError(error: SpdyProtocolError): void {
    if (error.scope === 'session') this.fail(error);
    else this.streamError(error);
  }

  private onSynStream(frame: SynStreamFrame): void {
    const id = frame.streamId;
    // Inflate first, always: the compression context must see every block (§5).
    let headers: FlatHeaders;
    let headerError: SpdyStreamError | undefined;
    try {
      headers = this.inflateHeaders(frame.headerBlock, id);
    } catch (error) {
      if (error instanceof SpdyStreamError) {
        headerError = error;
        headers = [];
      } else {
        return this.fail(asSessionError(error));
      }
    }
    if (this.role === 'client') return this.onPushStream(frame, headers, headerError);

    if (id % 2 === 0) {
      return this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_BAD_STREAM_ID', id, RstStatus.PROTOCOL_ERROR, `client SYN_STREAM with even id ${id}`));
    }
    if (id <= this.lastPeerStreamId) {
      if (this.streams.has(id)) {
        return this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_BAD_STREAM_ID', id, RstStatus.PROTOCOL_ERROR, `SYN_STREAM reuses open stream id ${id}`));
      }
      return this.fail(new SpdySessionError('SPRY_ERR_SPDY_BAD_STREAM_ID', `SYN_STREAM id ${id} is not above the last one, ${this.lastPeerStreamId}`));
    }
    this.lastPeerStreamId = id;
    if (frame.associatedStreamId !== 0 || frame.unidirectional) {
      return this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', id, RstStatus.PROTOCOL_ERROR, `client SYN_STREAM ${id} is associated or unidirectional`));
    }
    if (this.goawaySent) return this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', id, RstStatus.REFUSED_STREAM, `SYN_STREAM ${id} after GOAWAY`));
    if (headerError !== undefined) return this.streamError(headerError);
    if (this.peerStreamCount >= this.tuning.maxConcurrentStreams) {
      return this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', id, RstStatus.REFUSED_STREAM, `more than ${this.tuning.maxConcurrentStreams} concurrent streams`));
    }

    const stream = new SpdyStream(this, id, frame.priority, this.peerInitialWindow, this.localInitialWindow);
    stream.isServerStream = true;
    this.streams.set(id, stream);
    this.peerStreamCount++;
    if (frame.fin) stream.receiveFin();
    const parsed = requestHeadFromHeaders(this.version, id, headers, this.connection, !frame.fin);
    if (!parsed.ok) {
      stream.respond(400, ['content-type', 'text/plain; charset=utf-8'], false);
      stream.end(Buffer.from(`Bad Request: ${parsed.problem}\n`));
      return;
    }
    stream.head = parsed.head;
    this.emit('stream', stream);
  }

  private onPushStream(frame: SynStreamFrame, headers: FlatHeaders, headerError: SpdyStreamError | undefined): void {
    const id = frame.streamId;
    if (id % 2 !== 0 || id <= this.lastPeerStreamId) {
      return this.fail(new SpdySessionError('SPRY_ERR_SPDY_BAD_STREAM_ID', `server SYN_STREAM with id ${id}`));
    }
    this.lastPeerStreamId = id;
    const associated = this.streams.get(frame.associatedStreamId);
    if (associated === undefined || !frame.unidirectional) {
      return this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', id, RstStatus.PROTOCOL_ERROR, `push ${id} is not unidirectional or names no open stream`));
    }
    if (headerError !== undefined) return this.streamError(headerError);
    if (this.listenerCount('push') === 0) {
      return this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', id, RstStatus.CANCEL, `push ${id} not wanted`));
    }
    const stream = new SpdyStream(this, id, frame.priority, this.peerInitialWindow, this.localInitialWindow);
    stream.localFinQueued = true;
    stream.localFin = true;
    stream.responded = true;
    stream.gotReply = true;
    this.streams.set(id, stream);
    this.emit('push', stream, headers, frame.associatedStreamId);
    if (frame.fin) stream.receiveFin();
  }

  private onReplyOrHeaders(id: number, block: Uint8Array, fin: boolean, isReply: boolean): void {
    let headers: FlatHeaders;
    try {
      headers = this.inflateHeaders(block, id);
    } catch (error) {
      if (error instanceof SpdyStreamError) return this.streamError(error);
      return this.fail(asSessionError(error));
    }
    const stream = this.streams.get(id);
    if (stream === undefined) {
      if (this.recentlyReset.includes(id) || this.wasOpened(id)) return;
      return this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', id, RstStatus.INVALID_STREAM, `${isReply ? 'SYN_REPLY' : 'HEADERS'} on unknown stream ${id}`));
    }
    if (stream.remoteFin) {
      return this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', id, RstStatus.STREAM_ALREADY_CLOSED, `headers after FIN on stream ${id}`));
    }
    if (isReply) {
      if (stream.isServerStream || this.role === 'server') {
        return this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', id, RstStatus.PROTOCOL_ERROR, `SYN_REPLY for client stream ${id}`));
      }
      if (stream.gotReply) {
        const status = this.version.wire === 2 ? RstStatus.PROTOCOL_ERROR : RstStatus.STREAM_IN_USE;
        return this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', id, status, `second SYN_REPLY on stream ${id}`));
      }
      stream.gotReply = true;
      stream.onResponse?.(headers);
    } else {
      stream.onHeaders?.(headers);
    }
    if (fin) stream.receiveFin();
  }

  private inflateHeaders(block: Uint8Array, streamId: number): FlatHeaders {
    return decodeHeaderBlock(this.version, this.inflater.inflate(block), streamId, this.tuning);
  }

  private onSettings(frame: SettingsFrame): void {
    const seen = new Set<number>();
    for (const { id, value } of frame.entries) {
      if (seen.has(id)) continue; // within one frame the first value wins (§7)
      seen.add(id);
      if (id === SettingsId.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW_BYTES) return this.fail(new SpdySessionError('SPRY_ERR_SPDY_FLOW_CONTROL', `INITIAL_WINDOW_SIZE of ${value}`));
        // A SPDY/2 peer that announces a window flow-controls like v3 (node-spdy): honour it (§6).
        this.sendFlowControl = true;
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const stream of this.streams.values()) {
          stream.sendWindow += delta;
          if (stream.sendWindow > MAX_WINDOW_BYTES) {
            this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_FLOW_CONTROL', stream.id, RstStatus.FLOW_CONTROL_ERROR, `stream ${stream.id}'s window overflowed`));
          } else if (delta > 0 && stream.queue.length > 0 && !stream.scheduled) {
            this.wantsToSend(stream);
          }
        }
      } else if (id === SettingsId.MAX_CONCURRENT_STREAMS) {
        this.peerMaxConcurrentStreams = value;
      }
    }
    this.emit('settings', frame);
  }

  private onPing(id: number): void {
    const fromPeer = (id & 1) === (this.role === 'server' ? 1 : 0);
    if (fromPeer) {
      // Echo at once, ahead of any queued DATA.
      this.sendControl(encodePing(this.version, id));
      return;
    }
    const resolve = this.pings.get(id);
    if (resolve !== undefined) {
      this.pings.delete(id);
      resolve(0);
    }
  }

  private onGoaway(frame: GoawayFrame): void {
    this.goawayReceived = true;
    // Our streams above last-good were never seen by the peer: they may be retried elsewhere.
    for (const stream of [...this.streams.values()]) {
      if (!stream.isServerStream && stream.id > frame.lastGoodStreamId) {
        this.forget(stream);
        stream.terminate(new SpryError('SPRY_ERR_SPDY_SESSION_CLOSED', `stream ${stream.id} was refused by GOAWAY`));
      }
    }
    this.emit('goaway', frame.lastGoodStreamId, frame.status);
    if (this.streams.size === 0) this.endSocket();
    else this.closing = true;
  }

  private onWindowUpdate(streamId: number, delta: number): void {
    if (!this.sendFlowControl) return;
    if (streamId === 0) {
      if (this.version.flowControl !== 'stream-and-session') return; // meaningless before 3.1 (§6)
      this.sessionSendWindow += delta;
      if (this.sessionSendWindow > MAX_WINDOW_BYTES) {
        return this.fail(new SpdySessionError('SPRY_ERR_SPDY_FLOW_CONTROL', 'the session window overflowed'));
      }
      this.scheduleFlush();
      return;
    }
    const stream = this.streams.get(streamId);
    if (stream === undefined || stream.localFin) return;
    stream.sendWindow += delta;
    if (stream.sendWindow > MAX_WINDOW_BYTES) {
      return this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_FLOW_CONTROL', streamId, RstStatus.FLOW_CONTROL_ERROR, `stream ${streamId}'s window overflowed`));
    }
    if (stream.queue.length > 0 && !stream.scheduled) this.wantsToSend(stream);
  }

  // ── StreamOwner ──────────────────────────────────────────────────────────

  wantsToSend(stream: SpdyStream): void {
    stream.scheduled = true;
    const level = stream.schedulingPriority;
    this.ready[level].push(stream);
    if (level < this.readyFrom) this.readyFrom = level;
    this.scheduleFlush();
  }

  consumed(stream: SpdyStream, bytes: number): void {
    if (!stream.remoteFin && !stream.closed) {
      stream.pendingCredit += bytes;
      if (stream.pendingCredit >= this.streamCreditStep) this.returnStreamCredit(stream);
      else if (stream.pendingCredit > 0) this.owe(stream);
    }
    this.returnSessionCredit(bytes);
  }

  private returnStreamCredit(stream: SpdyStream): void {
    const credit = stream.pendingCredit;
    stream.pendingCredit = 0;
    this.owedStreams.delete(stream);
    if (credit === 0 || stream.remoteFin || stream.closed) return;
    stream.recvWindow += credit;
    this.sendControl(encodeWindowUpdate(this.version, stream.id, credit));
  }

  /** Credit below a step waits for more, but goes back once the transfer is quiet (see creditStep). */
  private owe(stream: SpdyStream | null): void {
    if (stream !== null) this.owedStreams.add(stream);
    if (this.creditTimer !== null || this.destroyed) return;
    this.dataSinceCreditTimer = 0;
    this.creditTimer = setTimeout(() => this.onCreditTimer(), CREDIT_QUIET_MS);
    this.creditTimer.unref();
  }

  private onCreditTimer(): void {
    this.creditTimer = null;
    if (this.destroyed) return;
    if (this.dataSinceCreditTimer > 0) {
      // Still flowing: the steps will come. Look again later.
      if (this.owedStreams.size > 0 || this.sessionPendingCredit > 0) this.owe(null);
      return;
    }
    for (const stream of this.owedStreams) this.returnStreamCredit(stream);
    this.returnSessionCredit(0, true);
  }

  resetStream(stream: SpdyStream, status: number): void {
    if (stream.closed) return;
    this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', stream.id, status as SpdyStreamError['status'], `stream ${stream.id} reset locally`), false);
  }

  streamClosed(stream: SpdyStream): void {
    this.forget(stream);
  }

  willRespond(stream: SpdyStream, status: number, headers: FlatHeaders): void {
    // (A request refused with a 400 before it was parsed has no head: nothing to push for it.)
    if (this.pushPlanner === undefined || !stream.isServerStream || stream.head === undefined) return;
    this.pushPlanner(stream, status, headers, (this.pushedPaths ??= new Set()));
  }

  /**
   * Opens a server push associated with `parent`: a SYN_STREAM with an even id, UNIDIRECTIONAL,
   * carrying the pushed request and its response head, then the body. Queued before the parent's
   * SYN_REPLY, so the client learns of the push before anything that could make it ask itself.
   */
  push(parent: SpdyStream, resource: PushedResource): SpdyStream | undefined {
    // No planner: push=0 on this listener, which turns res.push() off too.
    if (this.role !== 'server' || this.pushPlanner === undefined || this.destroyed || this.goawaySent || this.goawayReceived || this.closing) return undefined;
    if (parent.localFinQueued || parent.closed || !parent.isServerStream) return undefined;
    if (this.pushStreamCount >= this.peerMaxConcurrentStreams) return undefined;
    const id = this.nextLocalStreamId;
    if (id > MAX_STREAM_ID) return undefined;
    this.nextLocalStreamId += 2;
    // One step less urgent than the page that links it, so the page's own body goes first; but
    // the SYN_STREAM itself goes at the page's priority, ahead of the page's SYN_REPLY.
    const priority = Math.min(parent.priority + 1, 0xff >> this.version.priorityShift);
    const stream = new SpdyStream(this, id, priority, this.peerInitialWindow, 0);
    stream.schedulingPriority = parent.schedulingPriority;
    stream.associatedStreamId = parent.id;
    stream.remoteFin = true; // unidirectional: the client never sends on it
    this.streams.set(id, stream);
    this.pushStreamCount++;
    let siblings = this.pushesByRequest.get(parent.id);
    if (siblings === undefined) this.pushesByRequest.set(parent.id, (siblings = new Set()));
    siblings.add(stream);
    const body = resource.body;
    stream.open(pushHeaders(this.version, resource, resource.status, resource.headers), body?.length === 0, parent.id);
    if (body !== undefined && body.length > 0) stream.end(body);
    return stream;
  }

  // ── outbound ─────────────────────────────────────────────────────────────

  private sendInitialSettings(): void {
    const entries: SettingsEntry[] = [{ id: SettingsId.INITIAL_WINDOW_SIZE, flags: 0, value: this.localInitialWindow }];
    if (this.role === 'server') {
      entries.unshift({ id: SettingsId.MAX_CONCURRENT_STREAMS, flags: 0, value: this.tuning.maxConcurrentStreams });
    }
    this.control.push(encodeSettings(this.version, entries));
    if (this.version.flowControl === 'stream-and-session' && this.tuning.sessionWindowBytes > DEFAULT_WINDOW_BYTES) {
      const delta = this.tuning.sessionWindowBytes - DEFAULT_WINDOW_BYTES;
      this.sessionRecvWindow += delta;
      this.control.push(encodeWindowUpdate(this.version, 0, delta));
    }
    this.scheduleFlush();
  }

  private returnSessionCredit(bytes: number, all = false): void {
    if (this.version.flowControl !== 'stream-and-session') return;
    this.sessionPendingCredit += bytes;
    const credit = this.sessionPendingCredit;
    if (credit === 0) return;
    if (credit < this.sessionCreditStep && !all) return this.owe(null);
    this.sessionPendingCredit = 0;
    this.sessionRecvWindow += credit;
    this.sendControl(encodeWindowUpdate(this.version, 0, credit));
  }

  private sendControl(frame: Buffer): void {
    this.control.push(frame);
    this.scheduleFlush();
  }

  private sendGoaway(status: number): void {
    if (this.goawaySent || this.destroyed) return;
    this.goawaySent = true;
    this.control.push(encodeGoaway(this.version, this.lastPeerStreamId, status));
    this.flush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.destroyed) return;
    this.flushScheduled = true;
    process.nextTick(this.flushBound);
  }

  /**
   * Writes control frames first, then streams' frames by priority (SPDY/3 §2.3.3: a stream is
   * served only while no more urgent one can send), round-robin within a priority, one frame per
   * stream per turn, within the windows, until the socket asks us to wait ('drain' calls back).
   */
  private flush(): void {
    this.flushScheduled = false;
    // Once the socket is ended nothing more may go out: a write after end() errors and destroys
    // the socket, discarding the GOAWAY still buffered in it. (Streams the peer opened after our
    // GOAWAY are refused by that GOAWAY already.)
    if (this.destroyed || this.socket.writableEnded) return;
    const socket = this.socket;
    socket.cork();
    if (this.control.length > 0) {
      for (const frame of this.control) socket.write(frame);
      this.control.length = 0;
    }
    const lists = this.ready;
    let stalled = false;
    while (!stalled && !socket.writableNeedDrain) {
      let level = this.readyFrom;
      while (level < PRIORITY_LEVELS && lists[level].length === 0) level++;
      this.readyFrom = level;
      if (level === PRIORITY_LEVELS) break;
      // Take the whole round; streams that still have sendable data join the next one.
      const round = lists[level];
      lists[level] = [];
      let i = 0;
      for (; i < round.length; i++) {
        const stream = round[i];
        if (socket.writableNeedDrain || (this.sendFlowControl && this.version.flowControl === 'stream-and-session' && this.sessionSendWindow <= 0 && nextIsData(stream))) {
          stalled = true;
          break;
        }
        const more = this.sendOneFrame(stream);
        if (!more) {
          stream.scheduled = false;
        } else if (stream.schedulingPriority === level) {
          lists[level].push(stream);
        } else {
          lists[stream.schedulingPriority].push(stream);
          if (stream.schedulingPriority < this.readyFrom) this.readyFrom = stream.schedulingPriority;
        }
        // A write's callback may have woken a more urgent stream: it goes first.
        if (this.readyFrom < level) {
          i++;
          break;
        }
      }
      // Stopped early: the rest keep their turn ahead of the new round.
      if (i < round.length) lists[level] = round.slice(i).concat(lists[level]);
    }
    socket.uncork();
  }

  /** Sends the next frame of `stream`; returns true if it has more it can send now. */
  private sendOneFrame(stream: SpdyStream): boolean {
    if (stream.closed) return false;
    const item = stream.queue[0];
    if (item === undefined) return false;
    if (item.kind === 'headers') {
      stream.queue.shift();
      this.socket.write(this.encodeHeaderFrame(stream, item));
      if (item.fin) stream.finSent();
      stream.schedulingPriority = stream.priority; // (a push's SYN_STREAM is out: its body waits its turn)
      return stream.queue.length > 0;
    }
    const remaining = item.chunk.length;
    let allowance = this.tuning.maxDataFrameBytes;
    if (this.sendFlowControl) {
      allowance = Math.min(allowance, stream.sendWindow);
      if (this.version.flowControl === 'stream-and-session') allowance = Math.min(allowance, this.sessionSendWindow);
    }
    if (allowance <= 0 && remaining > 0) return false; // blocked: a WINDOW_UPDATE reschedules it
    const length = Math.min(allowance, remaining);
    const whole = length === remaining;
    const fin = item.fin && whole;
    this.socket.write(encodeDataHeader(stream.id, length, fin));
    if (length > 0) this.socket.write(whole ? item.chunk : item.chunk.subarray(0, length));
    stream.sendWindow -= length;
    this.sessionSendWindow -= length;
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

  // ── errors and teardown ──────────────────────────────────────────────────

  /** RST_STREAM(status) for one stream; the session carries on. */
  private streamError(error: SpdyStreamError, report = true): void {
    const id = error.streamId;
    // A status the version does not define (v2 stops at 7) goes out as PROTOCOL_ERROR.
    const status = error.status <= this.version.maxRstStatus ? error.status : RstStatus.PROTOCOL_ERROR;
    this.control.push(encodeRstStream(this.version, id, status));
    this.scheduleFlush();
    this.recentlyReset.push(id);
    if (this.recentlyReset.length > RECENTLY_RESET_MEMORY) this.recentlyReset.shift();
    const stream = this.streams.get(id);
    if (stream !== undefined) {
      this.forget(stream);
      stream.terminate(error);
    }
    if (report) this.emit('protocolError', error);
  }

  /** GOAWAY(status), then close hard: the peer can no longer be understood. */
  private fail(error: SpdySessionError): void {
    if (this.destroyed) return;
    this.emit('protocolError', error);
    this.sendGoaway(error.status);
    this.endSocket();
    this.teardown(error);
  }

  private onIdleTimeout(): void {
    if (this.destroyed) return;
    // A stream still waiting for its response is not idleness: the app, or a backend's own
    // --http-timeout (a 504), answers it. The socket's timer re-arms on the next byte either way.
    if (this.streams.size > 0) return;
    this.sendGoaway(GoawayStatus.OK);
    this.endSocket();
    this.teardown(new SpryError('SPRY_ERR_SPDY_SESSION_CLOSED', 'the connection was idle too long'));
  }

  private endSocket(): void {
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
    timer.unref();
  }

  private onSocketClose(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.teardown(new SpryError('SPRY_ERR_SPDY_SESSION_CLOSED', 'the connection closed'));
  }

  private teardown(reason: Error): void {
    const streams = [...this.streams.values()];
    this.streams.clear();
    this.ready = emptyReadyLists();
    this.owedStreams.clear();
    if (this.creditTimer !== null) clearTimeout(this.creditTimer);
    this.creditTimer = null;
    for (const stream of streams) stream.terminate(reason);
    if (this.destroyed && !this.closedEmitted) {
      this.closedEmitted = true;
      this.inflater.close();
      this.deflater?.close();
      this.emit('close');
    }
  }
  private closedEmitted = false;

  private forget(stream: SpdyStream): void {
    this.owedStreams.delete(stream);
    if (this.streams.delete(stream.id)) {
      if (stream.isServerStream) this.peerStreamCount--;
      else if (stream.associatedStreamId !== 0) this.forgetPush(stream);
      if (this.closing && this.streams.size === 0) this.endSocket();
    }
  }

  private forgetPush(push: SpdyStream): void {
    this.pushStreamCount--;
    const siblings = this.pushesByRequest.get(push.associatedStreamId);
    if (siblings !== undefined && siblings.delete(push) && siblings.size === 0) this.pushesByRequest.delete(push.associatedStreamId);
  }

  /** True if the peer's parity says it opened this id already (so it is closed now). */
  private wasOpened(streamId: number): boolean {
    const peerParity = this.role === 'server' ? 1 : 0;
    if ((streamId & 1) === peerParity) return streamId <= this.lastPeerStreamId;
    return streamId < this.nextLocalStreamId;
  }
}

/** SPDY/3 has priorities 0-7 (SPDY/2 only 0-3, the same lists serve). */
const PRIORITY_LEVELS = 8;

function emptyReadyLists(): SpdyStream[][] {
  return Array.from({ length: PRIORITY_LEVELS }, () => []);
}

function nextIsData(stream: SpdyStream): boolean {
  const item = stream.queue[0];
  return item !== undefined && item.kind === 'data' && item.chunk.length > 0;
}

function asSessionError(error: unknown): SpdySessionError {
  if (error instanceof SpdySessionError) return error;
  return new SpdySessionError('SPRY_ERR_SPDY_COMPRESSION', error instanceof Error ? error.message : String(error), GoawayStatus.INTERNAL_ERROR);
}


