// Flow control (SPDY/3 §2.6.8, SPDY/3.1's session window): the windows the peer gave us, which
// bound the DATA we send, and the windows we gave the peer, which bound what it may send and
// which we reopen, in steps, as the app consumes what arrived. Its checks return verdicts; the
// session sends the RST_STREAM or GOAWAY. Credit goes back through a CreditSink.

import type { StreamTuning } from '../config/config.ts';
import { DEFAULT_WINDOW_BYTES, MAX_WINDOW_BYTES, RstStatus } from './constants.ts';
import { SpdySessionError, SpdyStreamError } from './protocol-error.ts';
import type { SpdyStream } from './stream.ts';
import type { SpdyVersion } from './versions.ts';

/** Where returned credit goes: a WINDOW_UPDATE for `streamId` (0: the session). */
export interface CreditSink {
  sendWindowUpdate(streamId: number, delta: number): void;
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

export class FlowControl {
  /** Whether the peer's windows bound what we send (SPDY/2: only once it announced one). */
  sendEnabled: boolean;
  /** SPDY/3.1: a session window on top of the stream windows. */
  readonly hasSessionWindow: boolean;
  /** The peer's SETTINGS_INITIAL_WINDOW_SIZE: each new stream's send window. */
  peerInitialWindow = DEFAULT_WINDOW_BYTES;
  sessionSendWindow = DEFAULT_WINDOW_BYTES;
  /** What we announced: each new stream's receive window. */
  readonly localInitialWindow: number;
  private sessionRecvWindow = DEFAULT_WINDOW_BYTES;
  private readonly enforcesStreamWindows: boolean;
  /** How much consumed credit is returned at once, for a stream and for the session (3.1). */
  private readonly streamCreditStep: number;
  private readonly sessionCreditStep: number;
  private sessionPendingCredit = 0;
  /** Streams holding credit below a step, and the timer that returns it once they go quiet. */
  private readonly owedStreams = new Set<SpdyStream>();
  private creditTimer: NodeJS.Timeout | null = null;
  /** DATA frames received since the credit timer was armed: none means the transfer is quiet. */
  private dataSinceCreditTimer = 0;
  private stopped = false;
  private readonly sink: CreditSink;

  constructor(version: SpdyVersion, tuning: StreamTuning, sink: CreditSink) {
    this.sink = sink;
    this.sendEnabled = version.flowControl !== 'opt-in';
    this.enforcesStreamWindows = version.flowControl !== 'opt-in';
    this.hasSessionWindow = version.flowControl === 'stream-and-session';
    this.localInitialWindow = tuning.initialWindowBytes;
    this.streamCreditStep = creditStep(this.localInitialWindow);
    this.sessionCreditStep = creditStep(Math.max(DEFAULT_WINDOW_BYTES, tuning.sessionWindowBytes));
  }

  /** The session window raise to announce on connect (0: keep the default), already applied. */
  openSessionWindow(sessionWindowBytes: number): number {
    if (!this.hasSessionWindow || sessionWindowBytes <= DEFAULT_WINDOW_BYTES) return 0;
    const delta = sessionWindowBytes - DEFAULT_WINDOW_BYTES;
    this.sessionRecvWindow += delta;
    return delta;
  }

  // ── inbound ──────────────────────────────────────────────────────────────

  /** Every DATA byte counts against the session window, even for streams we drop (docs/spdy-protocol.md §6). */
  chargeSession(length: number): SpdySessionError | undefined {
    if (!this.hasSessionWindow) return undefined;
    this.sessionRecvWindow -= length;
    if (this.sessionRecvWindow >= 0) return undefined;
    return new SpdySessionError('SPRY_ERR_SPDY_FLOW_CONTROL', 'the peer overflowed the session window');
  }

  /** DATA for an open stream: within the window we gave it? */
  chargeStream(stream: SpdyStream, length: number): SpdyStreamError | undefined {
    stream.recvWindow -= length;
    if (stream.recvWindow < 0 && this.enforcesStreamWindows) {
      return new SpdyStreamError('SPRY_ERR_SPDY_FLOW_CONTROL', stream.id, RstStatus.FLOW_CONTROL_ERROR, `the peer overflowed stream ${stream.id}'s window`);
    }
    this.dataSinceCreditTimer++;
    return undefined;
  }

  /** `bytes` of a stream's DATA were consumed (or dropped): the peer may send that much more. */
  consumed(stream: SpdyStream, bytes: number): void {
    if (!stream.remoteFin && !stream.closed) {
      stream.pendingCredit += bytes;
      if (stream.pendingCredit >= this.streamCreditStep) this.returnStreamCredit(stream);
      else if (stream.pendingCredit > 0) this.owe(stream);
    }
    this.returnSessionCredit(bytes);
  }

  /** DATA dropped without reaching a stream still reopens the session window. */
  returnSessionCredit(bytes: number, all = false): void {
    if (!this.hasSessionWindow) return;
    this.sessionPendingCredit += bytes;
    const credit = this.sessionPendingCredit;
    if (credit === 0) return;
    if (credit < this.sessionCreditStep && !all) return this.owe(null);
    this.sessionPendingCredit = 0;
    this.sessionRecvWindow += credit;
    this.sink.sendWindowUpdate(0, credit);
  }

  forget(stream: SpdyStream): void {
    this.owedStreams.delete(stream);
  }

  stop(): void {
    this.stopped = true;
    this.owedStreams.clear();
    if (this.creditTimer !== null) clearTimeout(this.creditTimer);
    this.creditTimer = null;
  }

  private returnStreamCredit(stream: SpdyStream): void {
    const credit = stream.pendingCredit;
    stream.pendingCredit = 0;
    this.owedStreams.delete(stream);
    if (credit === 0 || stream.remoteFin || stream.closed) return;
    stream.recvWindow += credit;
    this.sink.sendWindowUpdate(stream.id, credit);
  }

  /** Credit below a step waits for more, but goes back once the transfer is quiet (see creditStep). */
  private owe(stream: SpdyStream | null): void {
    if (stream !== null) this.owedStreams.add(stream);
    if (this.creditTimer !== null || this.stopped) return;
    this.dataSinceCreditTimer = 0;
    this.creditTimer = setTimeout(() => this.onCreditTimer(), CREDIT_QUIET_MS);
    this.creditTimer.unref();
  }

  private onCreditTimer(): void {
    this.creditTimer = null;
    if (this.stopped) return;
    if (this.dataSinceCreditTimer > 0) {
      // Still flowing: the steps will come. Look again later.
      if (this.owedStreams.size > 0 || this.sessionPendingCredit > 0) this.owe(null);
      return;
    }
    for (const stream of this.owedStreams) this.returnStreamCredit(stream);
    this.returnSessionCredit(0, true);
  }

  // ── outbound ─────────────────────────────────────────────────────────────

  /**
   * The peer's SETTINGS_INITIAL_WINDOW_SIZE: every open stream's window moves by the difference
   * (SPDY/3 §2.6.8, and may go negative). Returns the streams whose window overflowed.
   */
  applyPeerInitialWindow(value: number, streams: Iterable<SpdyStream>): SpdySessionError | SpdyStream[] {
    if (value > MAX_WINDOW_BYTES) return new SpdySessionError('SPRY_ERR_SPDY_FLOW_CONTROL', `INITIAL_WINDOW_SIZE of ${value}`);
    // A SPDY/2 peer that announces a window flow-controls like v3 (node-spdy): honour it (§6).
    this.sendEnabled = true;
    const delta = value - this.peerInitialWindow;
    this.peerInitialWindow = value;
    const overflowed: SpdyStream[] = [];
    for (const stream of streams) {
      stream.sendWindow += delta;
      if (stream.sendWindow > MAX_WINDOW_BYTES) overflowed.push(stream);
    }
    return overflowed;
  }

  /** A stream-0 WINDOW_UPDATE (3.1): the session send window grows. */
  growSessionWindow(delta: number): SpdySessionError | undefined {
    this.sessionSendWindow += delta;
    if (this.sessionSendWindow <= MAX_WINDOW_BYTES) return undefined;
    return new SpdySessionError('SPRY_ERR_SPDY_FLOW_CONTROL', 'the session window overflowed');
  }

  /** A stream's WINDOW_UPDATE: its send window grows. */
  growStreamWindow(stream: SpdyStream, delta: number): SpdyStreamError | undefined {
    stream.sendWindow += delta;
    if (stream.sendWindow <= MAX_WINDOW_BYTES) return undefined;
    return new SpdyStreamError('SPRY_ERR_SPDY_FLOW_CONTROL', stream.id, RstStatus.FLOW_CONTROL_ERROR, `stream ${stream.id}'s window overflowed`);
  }

  /** True if the session window alone stops DATA now (3.1). */
  sessionBlocked(): boolean {
    return this.sendEnabled && this.hasSessionWindow && this.sessionSendWindow <= 0;
  }

  /** How many DATA bytes `stream` may send now, at most `max`. */
  allowance(stream: SpdyStream, max: number): number {
    if (!this.sendEnabled) return max;
    const allowance = Math.min(max, stream.sendWindow);
    return this.hasSessionWindow ? Math.min(allowance, this.sessionSendWindow) : allowance;
  }

  /** `length` DATA bytes of `stream` went out. */
  sent(stream: SpdyStream, length: number): void {
    stream.sendWindow -= length;
    this.sessionSendWindow -= length;
  }
}
