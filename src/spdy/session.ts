// A SPDY session over one connection, either end's common part (server-session.ts and
// client-session.ts add what only one end does: requests and pushes). It decodes frames and
// hands each decision to the part that owns it (stream-registry.ts: ids and limits;
// flow-control.ts: windows; settings.ts; ping-pong.ts; push-ledger.ts: pushes;
// peer-stream-frames.ts: the peer's RST_STREAM, SYN_REPLY, HEADERS and WINDOW_UPDATE;
// scheduler.ts and stream-framer.ts: what goes out when; session-lifecycle.ts: closing and the
// end), and acts on their verdicts: protocol errors become RST_STREAM or GOAWAY here, and only
// here (docs/spdy-protocol.md §12).

import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { StreamTuning } from '../config/config.ts';
import { SpryError } from '../errors.ts';
import type { BufferSizes, ConnectionInfo, FlatHeaders } from '../exchange/exchange.ts';
import { setHighWaterMarks } from '../internals/node-internals.ts';
import type { PushedResource } from '../push/push-planner.ts';
import { AbuseBudgets } from './abuse-budget.ts';
import { NO_DECLARED_LENGTH } from '../exchange/declared-length.ts';
import { bodyLengthFault } from './body-length.ts';
import { HeaderInflater } from './compression.ts';
import { FrameType, GoawayStatus, RstStatus } from './constants.ts';
import { type CreditSink, FlowControl } from './flow-control.ts';
import { FrameDecoder } from './frame-decoder.ts';
import { encodeGoaway, encodePing, encodeSettings, encodeWindowUpdate } from './frame-encoder.ts';
import type { ControlFrame, FrameSink, GoawayFrame, SettingsFrame, SynStreamFrame } from './frames.ts';
import { SpdySessionError, SpdyStreamError, type SpdyProtocolError } from './protocol-error.ts';
import { PingPong } from './ping-pong.ts';
import { PushLedger } from './push-ledger.ts';
import { PeerStreamFrames } from './peer-stream-frames.ts';
import { DROP, checkData, inflateHeaderBlock } from './recv.ts';
import { sessionRole, type SessionRole } from './role.ts';
import { Scheduler } from './scheduler.ts';
import { SessionLifecycle } from './session-lifecycle.ts';
import { applyPeerSettings, initialSettings } from './settings.ts';
import type { SpdyStream, StreamOwner } from './stream.ts';
import { StreamFramer } from './stream-framer.ts';
import { StreamRegistry } from './stream-registry.ts';
import type { SpdySessionEvents, SpdySessionOptions } from './session-events.ts';
import type { SpdyVersion } from './versions.ts';

export { creditStep } from './flow-control.ts';
export type { SpdySessionEvents, SpdySessionOptions } from './session-events.ts';

export abstract class SpdySession extends EventEmitter<SpdySessionEvents> implements FrameSink, StreamOwner, CreditSink {
  readonly version: SpdyVersion;
  readonly role: 'server' | 'client';
  readonly socket: Socket;
  readonly connection: ConnectionInfo;
  readonly buffers: BufferSizes;
  private readonly roleFacts: SessionRole;
  protected readonly tuning: StreamTuning;
  private readonly decoder: FrameDecoder;
  private readonly inflater: HeaderInflater;
  protected readonly registry: StreamRegistry;
  protected readonly flow: FlowControl;
  protected readonly life: SessionLifecycle;
  protected readonly scheduler: Scheduler;
  private readonly framer: StreamFramer;
  protected readonly pushes = new PushLedger();
  private readonly budgets: AbuseBudgets;
  private readonly peerFrames: PeerStreamFrames;
  /**
   * Request streams opened by the chunk being decoded: they reach the app once the whole chunk
   * is read, so that a stream the same chunk resets (rapid reset) never costs the app anything.
   */
  protected readonly opened: SpdyStream[] = [];
  /** Bytes arrived since the last releaseIdleBuffers(). */
  private activeSinceSweep = true;
  private readonly pings: PingPong;

  constructor(socket: Socket, options: SpdySessionOptions) {
    super();
    this.socket = socket;
    this.version = options.version;
    this.role = options.role;
    this.roleFacts = sessionRole(options.role);
    this.tuning = options.tuning;
    this.connection = options.connection;
    this.pings = new PingPong(this.roleFacts);
    this.buffers = { writeBytes: this.tuning.writeBufferBytes, readBytes: this.tuning.readBufferBytes };
    this.registry = new StreamRegistry(this.roleFacts, this.tuning.maxConcurrentStreams);
    this.flow = new FlowControl(this.version, this.tuning, this);
    this.framer = new StreamFramer(socket, this.version, this.flow, this.tuning.maxDataFrameBytes);
    this.scheduler = new Scheduler(socket, this.framer, this.tuning.maxOwedControlFrames);
    this.budgets = new AbuseBudgets(this.tuning);
    // The scheduler frames DATA until the socket reports it is full: write-buffer says when.
    setHighWaterMarks(socket, { writeBytes: this.buffers.writeBytes });
    this.decoder = new FrameDecoder(this.version, this, { maxControlFrameBytes: this.tuning.maxControlFrameBytes });
    this.inflater = new HeaderInflater(this.version.dictionary, this.tuning.maxHeaderBlockBytes);
    const { decoder, inflater, registry, flow, scheduler, framer, opened } = this;
    this.life = new SessionLifecycle({ socket, decoder, inflater, registry, flow, scheduler, framer, opened });
    const { version, roleFacts: role, pushes, life, budgets } = this;
    this.peerFrames = new PeerStreamFrames({ version, role, registry, flow, scheduler, pushes, life, budgets });

    // Frames leave whole (the scheduler corks); Nagle would only hold a reply back until the
    // peer's delayed ACK of our SETTINGS (40 ms on Linux).
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onSocketData(chunk));
    socket.on('drain', this.scheduler.drainBound);
    socket.on('close', () => this.onSocketClose());
    socket.on('error', () => {}); // 'close' follows; the streams learn of it there
    socket.on('end', () => this.onSocketClose());
    this.sendInitialSettings();
  }

  /** The open streams by id. */
  get streams(): ReadonlyMap<number, SpdyStream> {
    this.registry.settle(); // with those the read being decoded opened
    return this.registry.streams;
  }

  /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS (limits our pushes). */
  get peerMaxConcurrentStreams(): number {
    return this.pushes.peerMaxConcurrentStreams;
  }

  /** The socket is gone (closed, or destroyed). */
  get destroyed(): boolean {
    return this.life.destroyed;
  }

  /** The peer sent GOAWAY: no new streams on this session. */
  get goawayReceived(): boolean {
    return this.life.goawayReceived;
  }

  /** Control frames queued for the peer and not yet handed to the socket. */
  get owedControlFrames(): number {
    return this.scheduler.owedControlFrames;
  }

  // ── public API ───────────────────────────────────────────────────────────

  /** Sends a PING; resolves with the round-trip time when the peer echoes it. */
  ping(): Promise<number> {
    const { id, rttMs } = this.pings.start();
    this.sendControl(encodePing(this.version, id));
    return rttMs;
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
    if (this.life.destroyed || this.registry.size > 0 || this.scheduler.owedControlFrames > 0) return 0;
    return this.inflater.compact() + this.framer.release();
  }

  /** Graceful close: GOAWAY(OK), no new streams, the connection ends when the last stream does. */
  close(): void {
    if (this.life.destroyed) return;
    this.sendGoaway(GoawayStatus.OK);
    this.life.closeWhenDone();
  }

  /** Hard close: every stream is aborted and the socket destroyed. */
  destroy(reason?: Error): void {
    if (!this.life.destroy()) return;
    this.teardown(reason ?? new SpryError('SPRY_ERR_SPDY_SESSION_CLOSED', 'the session was destroyed'));
  }

  // ── inbound: FrameSink ───────────────────────────────────────────────────

  private onSocketData(chunk: Buffer): void {
    if (this.life.destroyed || this.decoder.failed) return;
    this.activeSinceSweep = true;
    this.socket.cork();
    this.decoder.push(chunk);
    this.registry.settle();
    if (this.opened.length > 0) this.dispatchOpened();
    this.socket.uncork();
  }

  private dispatchOpened(): void {
    const opened = this.opened.splice(0);
    // Indexed: this runs once a read, too seldom for V8 to optimise, and an unoptimised for-of
    // makes an iterator result per stream (a rapid reset's reads open hundreds).
    for (let i = 0; i < opened.length; i++) {
      const stream = opened[i];
      if (!stream.closed && !this.life.ended) this.dispatch(stream);
    }
  }

  /** Hands a request stream the chunk just read opened, and did not reset, to the app. */
  protected dispatch(stream: SpdyStream): void {
    this.emit('stream', stream);
  }

  onControlFrame(frame: ControlFrame): void {
    switch (frame.type) {
      case FrameType.SYN_STREAM:
        return this.onSynStream(frame);
      case FrameType.SYN_REPLY:
        return this.onReplyOrHeaders(frame.streamId, frame.headerBlock, frame.fin, true);
      case FrameType.HEADERS:
        return this.onReplyOrHeaders(frame.streamId, frame.headerBlock, frame.fin, false);
      case FrameType.RST_STREAM:
        return this.act(this.peerFrames.rstStream(frame.streamId, frame.status));
      case FrameType.SETTINGS:
        return this.onSettings(frame);
      case FrameType.PING:
        return this.onPing(frame.id);
      case FrameType.GOAWAY:
        return this.onGoaway(frame);
      case FrameType.WINDOW_UPDATE:
        return this.act(this.peerFrames.windowUpdate(frame.streamId, frame.delta));
      case FrameType.NOOP:
      case FrameType.CREDENTIAL:
        return; // NOOP means nothing; client certificates by CREDENTIAL are not supported (ignored).
    }
  }

  onData(streamId: number, chunk: Uint8Array, fin: boolean): void {
    const length = chunk.length;
    const sessionError = this.flow.chargeSession(length);
    if (sessionError !== undefined) return this.fail(sessionError);
    let verdict = checkData(this.roleFacts, this.registry, streamId, this.life.goawaySent);
    if (verdict === undefined) {
      const stream = this.registry.get(streamId)!;
      verdict = this.flow.chargeStream(stream, length);
      if (verdict === undefined && stream.declaredBodyBytes !== NO_DECLARED_LENGTH) {
        verdict = bodyLengthFault(streamId, stream.declaredBodyBytes, (stream.receivedBodyBytes += length), fin);
      }
      if (verdict === undefined) return stream.receiveData(chunk as Buffer, fin);
    }
    this.flow.returnSessionCredit(length);
    if (verdict !== DROP) this.streamError(verdict);
  }

  onProtocolError(error: SpdyProtocolError): void {
    this.act(error);
  }

  private onSynStream(frame: SynStreamFrame): void {
    // Inflate first, always: the compression context must see every block (docs/spdy-protocol.md §5).
    const headers = this.inflate(frame.headerBlock, frame.streamId);
    if (Array.isArray(headers)) return this.openPeerStream(frame, headers, undefined);
    if (headers.scope === 'session') return this.fail(headers);
    this.openPeerStream(frame, [], headers);
  }

  /**
   * The peer's SYN_STREAM, its block inflated (`headerError`: the block's own fault): a request
   * on a server session, a push on a client's.
   */
  protected abstract openPeerStream(frame: SynStreamFrame, headers: FlatHeaders, headerError: SpdyStreamError | undefined): void;

  private onReplyOrHeaders(id: number, block: Uint8Array, fin: boolean, isReply: boolean): void {
    const headers = this.inflate(block, id);
    this.act(Array.isArray(headers) ? this.peerFrames.replyOrHeaders(id, headers, fin, isReply) : headers);
  }

  private inflate(block: Uint8Array, streamId: number): FlatHeaders | SpdyProtocolError {
    return inflateHeaderBlock(this.version, this.inflater, block, streamId, this.tuning);
  }

  private onSettings(frame: SettingsFrame): void {
    this.registry.settle(); // the streams this read opened take the new windows too
    const outcome = applyPeerSettings(frame, this.flow, this.registry.streams, this.pushes);
    if (outcome instanceof SpdySessionError) return this.fail(outcome);
    for (const error of outcome.streamErrors) this.streamError(error);
    if (outcome.windowGrew) for (const stream of this.registry.streams.values()) this.peerFrames.wakeIfQueued(stream);
    this.emit('settings', frame);
  }

  private onPing(id: number): void {
    const verdict = this.pings.received(id);
    // The peer's: echo at once, ahead of any queued DATA.
    if (verdict === 'echo') this.sendControl(encodePing(this.version, id));
    else if (verdict === 'unknown') this.act(this.budgets.invalidFrame());
  }

  private onGoaway(frame: GoawayFrame): void {
    this.life.goawayReceived = true;
    // Our streams above last-good were never seen by the peer: they may be retried elsewhere.
    this.registry.settle();
    for (const stream of [...this.registry.streams.values()]) {
      if (!stream.isServerStream && stream.id > frame.lastGoodStreamId) {
        this.forget(stream);
        stream.terminate(new SpryError('SPRY_ERR_SPDY_SESSION_CLOSED', `stream ${stream.id} was refused by GOAWAY`));
      }
    }
    this.emit('goaway', frame.lastGoodStreamId, frame.status);
    this.life.closeWhenDone();
  }

  // ── StreamOwner ──────────────────────────────────────────────────────────

  wantsToSend(stream: SpdyStream): void {
    this.scheduler.wantsToSend(stream);
  }

  consumed(stream: SpdyStream, bytes: number): void {
    this.flow.consumed(stream, bytes);
  }

  resetStream(stream: SpdyStream, status: number): void {
    if (stream.closed) return;
    this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', stream.id, status as SpdyStreamError['status'], `stream ${stream.id} reset locally`), 'local');
  }

  streamClosed(stream: SpdyStream): void {
    this.forget(stream);
  }

  /** Server sessions push (server-session.ts); this end does not. */
  willRespond(_stream: SpdyStream, _status: number, _headers: FlatHeaders): void {}

  push(_parent: SpdyStream, _resource: PushedResource): SpdyStream | undefined {
    return undefined;
  }

  // ── CreditSink ───────────────────────────────────────────────────────────

  sendWindowUpdate(streamId: number, delta: number): void {
    this.sendControl(encodeWindowUpdate(this.version, streamId, delta));
  }

  // ── outbound ─────────────────────────────────────────────────────────────

  private sendInitialSettings(): void {
    this.scheduler.queueControl(encodeSettings(this.version, initialSettings(this.roleFacts, this.flow, this.tuning)));
    const delta = this.flow.openSessionWindow(this.tuning.sessionWindowBytes);
    if (delta > 0) this.sendWindowUpdate(0, delta);
  }

  /** A control frame owed to the peer; a peer that lets too many pile up unread is given up on. */
  private sendControl(frame: Buffer): void {
    if (!this.life.ended) this.owed(this.scheduler.queueControl(frame));
  }

  /** sendControl() for an RST_STREAM, which the scheduler writes straight into its queue. */
  private sendRstStream(streamId: number, status: number): void {
    if (!this.life.ended) this.owed(this.scheduler.queueRstStream(this.version, streamId, status));
  }

  /** After a control frame was queued: past the limit of frames owed, the peer is given up on. */
  private owed(withinLimit: boolean): void {
    if (withinLimit) return;
    this.scheduler.dropControl();
    this.fail(new SpdySessionError('SPRY_ERR_SPDY_PEER_NOT_READING', `more than ${this.tuning.maxOwedControlFrames} control frames owed to a peer that does not read`, GoawayStatus.INTERNAL_ERROR));
  }

  protected sendGoaway(status: number): void {
    if (this.life.goawaySent || this.life.destroyed) return;
    this.life.goawaySent = true;
    this.scheduler.writeControlNow(encodeGoaway(this.version, this.registry.lastPeerStreamId, status));
  }

  // ── errors and teardown ──────────────────────────────────────────────────

  /** Acts on a part's verdict: RST_STREAM for a stream error, GOAWAY for a session error. */
  protected act(verdict: SpdyProtocolError | undefined): void {
    if (verdict === undefined) return;
    if (verdict.scope === 'session') this.fail(verdict);
    else this.streamError(verdict);
  }

  /**
   * RST_STREAM(status) for one stream; the session carries on. A stream error the peer caused
   * is reported and spends its budget; one we decided (the app's abort, a stall) only the first.
   */
  protected streamError(error: SpdyStreamError, cause: 'peer' | 'local' | 'stall' = 'peer'): void {
    const id = error.streamId;
    // A status the version does not define (v2 stops at 7) goes out as PROTOCOL_ERROR.
    const status = error.status <= this.version.maxRstStatus ? error.status : RstStatus.PROTOCOL_ERROR;
    this.sendRstStream(id, status);
    this.registry.noteReset(id);
    const stream = this.registry.get(id);
    if (stream !== undefined) {
      this.forget(stream);
      stream.terminate(error);
    }
    if (cause === 'local') return;
    this.emit('protocolError', error);
    const verdict = cause === 'peer' ? this.budgets.streamError() : undefined;
    if (verdict !== undefined) this.fail(verdict);
  }

  /** GOAWAY(status), then close hard: the peer can no longer be understood. */
  private fail(error: SpdySessionError): void {
    if (this.life.ended) return;
    this.emit('protocolError', error);
    this.sendGoaway(error.status);
    this.life.end();
    this.teardown(error);
  }

  private onSocketClose(): void {
    if (!this.life.socketGone()) return;
    this.teardown(new SpryError('SPRY_ERR_SPDY_SESSION_CLOSED', 'the connection closed'));
  }

  protected teardown(reason: Error): void {
    if (this.life.teardown(reason)) this.emit('close');
  }

  private forget(stream: SpdyStream): void {
    this.peerFrames.forget(stream);
  }
}
