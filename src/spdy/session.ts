// A SPDY session over one connection, for either end. It decodes frames and hands each decision
// to the part that owns it (stream-registry.ts: ids and limits; flow-control.ts: windows;
// push-ledger.ts: pushes; scheduler.ts and stream-framer.ts: what goes out when), and acts on
// their verdicts: protocol errors become RST_STREAM or GOAWAY here, and only here (docs/spdy-protocol.md §12).

import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { StreamTuning } from '../config/config.ts';
import { SpryError } from '../errors.ts';
import type { BufferSizes, ConnectionInfo, FlatHeaders } from '../exchange/exchange.ts';
import { setHighWaterMarks } from '../exchange/high-water-marks.ts';
import type { PushedResource, PushPlanner } from '../push/push-planner.ts';
import { AbuseBudgets } from './abuse-budget.ts';
import { HeaderInflater } from './compression.ts';
import { FrameType, GoawayStatus, RstStatus, SettingsId, rstStatusName } from './constants.ts';
import { type CreditSink, FlowControl } from './flow-control.ts';
import { FrameDecoder } from './frame-decoder.ts';
import { encodeGoaway, encodePing, encodeRstStream, encodeSettings, encodeWindowUpdate } from './frame-encoder.ts';
import type { ControlFrame, FrameSink, GoawayFrame, SettingsEntry, SettingsFrame, SynStreamFrame } from './frames.ts';
import { decodeHeaderBlock } from './header-block.ts';
import { SpdySessionError, SpdyStreamError, type SpdyProtocolError } from './protocol-error.ts';
import { PushLedger } from './push-ledger.ts';
import { DROP, checkData, checkHeaders } from './recv.ts';
import { appendHeaders, pushHeaders, requestHeadFromHeaders } from './request-head.ts';
import { isPeerId, sessionRole, type SessionRole } from './role.ts';
import { Scheduler } from './scheduler.ts';
import { SpdyStream, type StreamOwner } from './stream.ts';
import { StreamFramer } from './stream-framer.ts';
import { StreamRegistry } from './stream-registry.ts';
import { StallWatch } from './stall-watch.ts';
import type { SpdyVersion } from './versions.ts';

export { creditStep } from './flow-control.ts';

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

/** After GOAWAY for an error, how long the peer gets to read it before the socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

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

export class SpdySession extends EventEmitter<SpdySessionEvents> implements FrameSink, StreamOwner, CreditSink {
  readonly version: SpdyVersion;
  readonly role: 'server' | 'client';
  readonly socket: Socket;
  readonly connection: ConnectionInfo;
  readonly buffers: BufferSizes;
  private readonly roleFacts: SessionRole;
  private readonly tuning: StreamTuning;
  private readonly decoder: FrameDecoder;
  private readonly inflater: HeaderInflater;
  private readonly registry: StreamRegistry;
  private readonly flow: FlowControl;
  private readonly scheduler: Scheduler;
  private readonly framer: StreamFramer;
  private readonly pushes = new PushLedger();
  private readonly pushPlanner: PushPlanner | undefined;
  private readonly budgets: AbuseBudgets;
  /** Absent when --http-timeout is 0. */
  private readonly stallWatch: StallWatch | undefined;
  private stallTimer: NodeJS.Timeout | null = null;
  private drainsAtStallCheck = 0;
  /**
   * Request streams opened by the chunk being decoded: they reach the app once the whole chunk
   * is read, so that a stream the same chunk resets (rapid reset) never costs the app anything.
   */
  private readonly opened: SpdyStream[] = [];

  private goawaySent = false;
  /**
   * We ended the socket (a session error, the idle timeout, a close with nothing left open):
   * nothing more the peer sends is decoded, and nothing more is queued, since nothing more
   * can be written.
   */
  private ended = false;
  /** Bytes arrived since the last releaseIdleBuffers(). */
  private activeSinceSweep = true;
  goawayReceived = false;
  private closing = false;
  destroyed = false;
  private closedEmitted = false;
  private nextPingId: number;
  private readonly pings = new Map<number, (rttMs: number) => void>();

  constructor(socket: Socket, options: SpdySessionOptions) {
    super();
    this.socket = socket;
    this.version = options.version;
    this.role = options.role;
    this.roleFacts = sessionRole(options.role);
    this.tuning = options.tuning;
    this.connection = options.connection;
    this.nextPingId = this.roleFacts.firstPingId;
    this.pushPlanner = options.pushPlanner;
    this.buffers = { writeBytes: this.tuning.writeBufferBytes, readBytes: this.tuning.readBufferBytes };
    this.registry = new StreamRegistry(this.roleFacts, this.tuning.maxConcurrentStreams);
    this.flow = new FlowControl(this.version, this.tuning, this);
    this.framer = new StreamFramer(socket, this.version, this.flow, this.tuning.maxDataFrameBytes);
    this.scheduler = new Scheduler(socket, this.framer, this.tuning.maxOwedControlFrames);
    this.budgets = new AbuseBudgets(this.tuning);
    if (options.idleTimeoutMs > 0) this.stallWatch = new StallWatch(options.idleTimeoutMs, this.tuning.sessionBufferBytes, this.flow);
    // The scheduler frames DATA until the socket reports it is full: write-buffer says when.
    setHighWaterMarks(socket, { writeBytes: this.buffers.writeBytes });
    this.decoder = new FrameDecoder(this.version, this, { maxControlFrameBytes: this.tuning.maxControlFrameBytes });
    this.inflater = new HeaderInflater(this.version.dictionary, this.tuning.maxHeaderBlockBytes);

    // Frames leave whole (the scheduler corks); Nagle would only hold a reply back until the
    // peer's delayed ACK of our SETTINGS (40 ms on Linux).
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onSocketData(chunk));
    socket.on('drain', this.scheduler.drainBound);
    socket.on('close', () => this.onSocketClose());
    socket.on('error', () => {}); // 'close' follows; the streams learn of it there
    socket.on('end', () => this.onSocketClose());
    if (options.idleTimeoutMs > 0) {
      socket.setTimeout(options.idleTimeoutMs, () => this.onIdleTimeout());
    }
    this.sendInitialSettings();
  }

  /** The open streams by id. */
  get streams(): ReadonlyMap<number, SpdyStream> {
    return this.registry.streams;
  }

  /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS (limits our pushes). */
  get peerMaxConcurrentStreams(): number {
    return this.pushes.peerMaxConcurrentStreams;
  }

  /** Control frames queued for the peer and not yet handed to the socket. */
  get owedControlFrames(): number {
    return this.scheduler.control.length;
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
    const id = this.registry.takeLocalId();
    if (id === undefined) throw new SpryError('SPRY_ERR_SPDY_SESSION_CLOSED', 'stream ids are used up; open a new connection');
    const priority = Math.min(Math.max(Math.trunc(options.priority ?? 0), 0), 0xff >> this.version.priorityShift);
    const stream = new SpdyStream(this, id, priority, this.flow.peerInitialWindow, this.flow.localInitialWindow);
    this.registry.add(stream);
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
    if (this.destroyed || this.registry.size > 0 || this.scheduler.control.length > 0) return 0;
    return this.inflater.compact() + this.framer.release();
  }

  /** Graceful close: GOAWAY(OK), no new streams, the connection ends when the last stream does. */
  close(): void {
    if (this.destroyed) return;
    this.sendGoaway(GoawayStatus.OK);
    this.closing = true;
    if (this.registry.size === 0) this.endSocket();
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
    if (this.opened.length > 0) this.dispatchOpened();
    this.socket.uncork();
  }

  private dispatchOpened(): void {
    const opened = this.opened.splice(0);
    for (const stream of opened) if (!stream.closed && !this.ended) this.emit('stream', stream);
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
        return this.onRstStream(frame.streamId, frame.status);
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
    const sessionError = this.flow.chargeSession(length);
    if (sessionError !== undefined) return this.fail(sessionError);
    let verdict = checkData(this.roleFacts, this.registry, streamId, this.goawaySent);
    if (verdict === undefined) {
      const stream = this.registry.get(streamId)!;
      verdict = this.flow.chargeStream(stream, length);
      if (verdict === undefined) return stream.receiveData(chunk as Buffer, fin);
    }
    this.flow.returnSessionCredit(length);
    if (verdict !== DROP) this.streamError(verdict);
  }

  onProtocolError(error: SpdyProtocolError): void {
    if (error.scope === 'session') this.fail(error);
    else this.streamError(error);
  }

  private onSynStream(frame: SynStreamFrame): void {
    const id = frame.streamId;
    // Inflate first, always: the compression context must see every block (docs/spdy-protocol.md §5).
    let headers: FlatHeaders;
    let headerError: SpdyStreamError | undefined;
    try {
      headers = this.inflateHeaders(frame.headerBlock, id);
    } catch (error) {
      if (!(error instanceof SpdyStreamError)) return this.fail(asSessionError(error));
      headerError = error;
      headers = [];
    }
    if (this.role === 'client') return this.onPushStream(frame, headers, headerError);

    const verdict = this.registry.admitRequest(frame, this.goawaySent, headerError);
    if (verdict !== undefined) return this.act(verdict);
    const stream = new SpdyStream(this, id, frame.priority, this.flow.peerInitialWindow, this.flow.localInitialWindow, true);
    this.registry.add(stream);
    if (frame.fin) stream.receiveFin();
    const parsed = requestHeadFromHeaders(this.version, id, headers, this.connection, !frame.fin);
    if (!parsed.ok) {
      stream.respond(400, ['content-type', 'text/plain; charset=utf-8'], false);
      stream.end(Buffer.from(`Bad Request: ${parsed.problem}\n`));
      return;
    }
    stream.head = parsed.head;
    this.opened.push(stream);
    this.watchStalls();
  }

  private onPushStream(frame: SynStreamFrame, headers: FlatHeaders, headerError: SpdyStreamError | undefined): void {
    const id = frame.streamId;
    const verdict = this.registry.admitPush(frame, headerError);
    if (verdict !== undefined) return this.act(verdict);
    if (this.listenerCount('push') === 0) {
      return this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', id, RstStatus.CANCEL, `push ${id} not wanted`));
    }
    const stream = new SpdyStream(this, id, frame.priority, this.flow.peerInitialWindow, this.flow.localInitialWindow);
    stream.markLocalDone(); // unidirectional: we never send on it
    stream.gotReply = true;
    this.registry.add(stream);
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
    const verdict = checkHeaders(this.roleFacts, this.version, this.registry, id, isReply);
    if (verdict === DROP) return this.spendInvalidFrame();
    if (verdict !== undefined) return this.streamError(verdict);
    const stream = this.registry.get(id)!;
    if (isReply) {
      stream.gotReply = true;
      stream.onResponse?.(headers);
    } else {
      stream.onHeaders?.(headers);
    }
    if (fin) stream.receiveFin();
  }

  private onRstStream(id: number, status: number): void {
    const stream = this.registry.get(id);
    const reason = (): SpryError => new SpryError('SPRY_ERR_SPDY_STREAM_RESET', `the peer reset stream ${id} (${rstStatusName(status)})`);
    if (stream === undefined && !this.registry.wasKnown(id)) this.spendInvalidFrame();
    if (stream !== undefined) {
      // Work the peer asked for and threw away before it was done: the rapid-reset budget.
      const wasted = stream.isServerStream && !stream.localFin;
      this.forget(stream);
      stream.terminate(reason());
      const verdict = wasted ? this.budgets.peerReset() : undefined;
      if (verdict !== undefined) return this.fail(verdict);
    }
    // Cancelling a request cancels the pushes that came with it, even once its own response
    // has ended (SPDY/3 §3.3.2).
    for (const push of this.pushes.pushesOf(id)) {
      this.forget(push);
      push.terminate(reason());
    }
  }

  private inflateHeaders(block: Uint8Array, streamId: number): FlatHeaders {
    return decodeHeaderBlock(this.version, this.inflater.inflate(block), streamId, this.tuning);
  }

  private onSettings(frame: SettingsFrame): void {
    const seen = new Set<number>();
    for (const { id, value } of frame.entries) {
      if (seen.has(id)) continue; // within one frame the first value wins (docs/spdy-protocol.md §7)
      seen.add(id);
      if (id === SettingsId.INITIAL_WINDOW_SIZE) {
        const grew = value > this.flow.peerInitialWindow;
        const verdict = this.flow.applyPeerInitialWindow(value, this.registry.streams.values());
        if (verdict instanceof SpdySessionError) return this.fail(verdict);
        for (const stream of verdict) {
          this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_FLOW_CONTROL', stream.id, RstStatus.FLOW_CONTROL_ERROR, `stream ${stream.id}'s window overflowed`));
        }
        if (grew) for (const stream of this.registry.streams.values()) this.wakeIfQueued(stream);
      } else if (id === SettingsId.MAX_CONCURRENT_STREAMS) {
        this.pushes.peerMaxConcurrentStreams = value;
      }
    }
    this.emit('settings', frame);
  }

  private onPing(id: number): void {
    if (isPeerId(this.roleFacts, id)) {
      // Echo at once, ahead of any queued DATA.
      this.sendControl(encodePing(this.version, id));
      return;
    }
    const resolve = this.pings.get(id);
    if (resolve === undefined) return this.spendInvalidFrame();
    this.pings.delete(id);
    resolve(0);
  }

  private onGoaway(frame: GoawayFrame): void {
    this.goawayReceived = true;
    // Our streams above last-good were never seen by the peer: they may be retried elsewhere.
    for (const stream of [...this.registry.streams.values()]) {
      if (!stream.isServerStream && stream.id > frame.lastGoodStreamId) {
        this.forget(stream);
        stream.terminate(new SpryError('SPRY_ERR_SPDY_SESSION_CLOSED', `stream ${stream.id} was refused by GOAWAY`));
      }
    }
    this.emit('goaway', frame.lastGoodStreamId, frame.status);
    if (this.registry.size === 0) this.endSocket();
    else this.closing = true;
  }

  private onWindowUpdate(streamId: number, delta: number): void {
    if (!this.flow.sendEnabled) return;
    if (streamId === 0) {
      if (!this.flow.hasSessionWindow) return; // meaningless before 3.1 (docs/spdy-protocol.md §6)
      const verdict = this.flow.growSessionWindow(delta);
      if (verdict !== undefined) return this.fail(verdict);
      if (!this.flow.sessionBlocked()) this.scheduler.sessionWindowOpened();
      return;
    }
    // A stream whose response is done but whose upload is still open is still a stream: its
    // window may overflow too (SPDY/3 §2.6.8).
    const stream = this.registry.get(streamId);
    if (stream === undefined) {
      if (!this.registry.wasKnown(streamId)) this.spendInvalidFrame();
      return;
    }
    const verdict = this.flow.growStreamWindow(stream, delta);
    if (verdict !== undefined) return this.streamError(verdict);
    this.wakeIfQueued(stream);
  }

  private wakeIfQueued(stream: SpdyStream): void {
    if (stream.queue.length > 0 && !stream.scheduled) this.wantsToSend(stream);
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

  willRespond(stream: SpdyStream, status: number, headers: FlatHeaders): void {
    // (A request refused with a 400 before it was parsed has no head: nothing to push for it.)
    if (this.pushPlanner === undefined || !stream.isServerStream || stream.head === undefined) return;
    this.pushPlanner(stream, status, headers, (this.pushes.pushedPaths ??= new Set()));
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
    if (!this.pushes.mayOpen()) return undefined;
    const id = this.registry.takeLocalId();
    if (id === undefined) return undefined;
    // One step less urgent than the page that links it, so the page's own body goes first; but
    // the SYN_STREAM itself goes at the page's priority, ahead of the page's SYN_REPLY.
    const priority = Math.min(parent.priority + 1, 0xff >> this.version.priorityShift);
    const stream = new SpdyStream(this, id, priority, this.flow.peerInitialWindow, 0);
    stream.schedulingPriority = parent.schedulingPriority;
    stream.associatedStreamId = parent.id;
    stream.markRemoteDone(); // unidirectional: the client never sends on it
    this.registry.add(stream);
    this.pushes.opened(parent.id, stream);
    const body = resource.body;
    stream.open(pushHeaders(this.version, resource, resource.status, resource.headers), body?.length === 0, parent.id);
    if (body !== undefined && body.length > 0) stream.end(body);
    return stream;
  }

  // ── CreditSink ───────────────────────────────────────────────────────────

  sendWindowUpdate(streamId: number, delta: number): void {
    this.sendControl(encodeWindowUpdate(this.version, streamId, delta));
  }

  // ── outbound ─────────────────────────────────────────────────────────────

  private sendInitialSettings(): void {
    const entries: SettingsEntry[] = [{ id: SettingsId.INITIAL_WINDOW_SIZE, flags: 0, value: this.flow.localInitialWindow }];
    if (this.roleFacts.announcesStreamLimit) {
      entries.unshift({ id: SettingsId.MAX_CONCURRENT_STREAMS, flags: 0, value: this.tuning.maxConcurrentStreams });
    }
    this.scheduler.queueControl(encodeSettings(this.version, entries));
    const delta = this.flow.openSessionWindow(this.tuning.sessionWindowBytes);
    if (delta > 0) this.sendWindowUpdate(0, delta);
  }

  /** A control frame owed to the peer; a peer that lets too many pile up unread is given up on. */
  private sendControl(frame: Buffer): void {
    if (this.ended || this.scheduler.queueControl(frame)) return;
    this.scheduler.dropControl();
    this.fail(new SpdySessionError('SPRY_ERR_SPDY_PEER_NOT_READING', `more than ${this.tuning.maxOwedControlFrames} control frames owed to a peer that does not read`, GoawayStatus.INTERNAL_ERROR));
  }

  private sendGoaway(status: number): void {
    if (this.goawaySent || this.destroyed) return;
    this.goawaySent = true;
    this.scheduler.writeControlNow(encodeGoaway(this.version, this.registry.lastPeerStreamId, status));
  }

  // ── errors and teardown ──────────────────────────────────────────────────

  /** Acts on a part's verdict: RST_STREAM for a stream error, GOAWAY for a session error. */
  private act(verdict: SpdyProtocolError): void {
    if (verdict.scope === 'session') this.fail(verdict);
    else this.streamError(verdict);
  }

  /**
   * RST_STREAM(status) for one stream; the session carries on. A stream error the peer caused
   * is reported and spends its budget; one we decided (the app's abort, a stall) only the first.
   */
  private streamError(error: SpdyStreamError, cause: 'peer' | 'local' | 'stall' = 'peer'): void {
    const id = error.streamId;
    // A status the version does not define (v2 stops at 7) goes out as PROTOCOL_ERROR.
    const status = error.status <= this.version.maxRstStatus ? error.status : RstStatus.PROTOCOL_ERROR;
    this.sendControl(encodeRstStream(this.version, id, status));
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

  /** A frame we drop unanswered: it spends the invalid-frame budget. */
  private spendInvalidFrame(): void {
    const verdict = this.budgets.invalidFrame();
    if (verdict !== undefined) this.fail(verdict);
  }

  // ── stalled streams ──────────────────────────────────────────────────────

  /** While streams are open, look now and then for those that cannot send (see stall-watch.ts). */
  private watchStalls(): void {
    if (this.stallWatch === undefined || this.stallTimer !== null) return;
    this.stallTimer = setInterval(() => this.checkStalls(), this.stallWatch.checkMs);
    this.stallTimer.unref();
  }

  private checkStalls(): void {
    if (this.registry.size === 0 || this.destroyed) {
      if (this.stallTimer !== null) clearInterval(this.stallTimer);
      this.stallTimer = null;
      return;
    }
    const socketStuck = this.socket.writableNeedDrain && this.scheduler.drains === this.drainsAtStallCheck;
    this.drainsAtStallCheck = this.scheduler.drains;
    for (const stream of this.stallWatch!.check(this.registry.streams.values(), socketStuck)) {
      this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STALLED', stream.id, RstStatus.CANCEL, `stream ${stream.id} could not send for too long, or its session buffered too much`), 'stall');
    }
  }

  /** GOAWAY(status), then close hard: the peer can no longer be understood. */
  private fail(error: SpdySessionError): void {
    if (this.destroyed || this.ended) return;
    this.emit('protocolError', error);
    this.sendGoaway(error.status);
    this.endSocket();
    this.teardown(error);
  }

  private onIdleTimeout(): void {
    if (this.destroyed || this.ended) return;
    // A stream still waiting for its response is not idleness: the app, or a backend's own
    // --http-timeout (a 504), answers it. Streams that can only wait for the peer are. The
    // socket's timer re-arms on the next byte either way.
    if (this.registry.size > 0 && !StallWatch.allStalled(this.registry.streams.values())) return;
    this.sendGoaway(GoawayStatus.OK);
    this.endSocket();
    this.teardown(new SpryError('SPRY_ERR_SPDY_SESSION_CLOSED', 'the connection was idle too long'));
  }

  private endSocket(): void {
    if (this.ended) return;
    this.ended = true;
    this.decoder.stop();
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
    const streams = this.registry.clear();
    this.opened.length = 0;
    this.flow.stop();
    if (this.stallTimer !== null) clearInterval(this.stallTimer);
    this.stallTimer = null;
    if (this.destroyed) this.scheduler.stop();
    else this.scheduler.dropStreams();
    for (const stream of streams) stream.terminate(reason);
    if (this.destroyed && !this.closedEmitted) {
      this.closedEmitted = true;
      this.inflater.close();
      this.framer.close();
      this.emit('close');
    }
  }

  private forget(stream: SpdyStream): void {
    this.flow.forget(stream);
    if (this.registry.remove(stream)) {
      if (!stream.isServerStream && stream.associatedStreamId !== 0) this.pushes.closed(stream);
      if (this.closing && this.registry.size === 0) this.endSocket();
    }
  }
}

function asSessionError(error: unknown): SpdySessionError {
  if (error instanceof SpdySessionError) return error;
  return new SpdySessionError('SPRY_ERR_SPDY_COMPRESSION', error instanceof Error ? error.message : String(error), GoawayStatus.INTERNAL_ERROR);
}
