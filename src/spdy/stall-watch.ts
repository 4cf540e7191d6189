// Streams that cannot send: their response is queued, but the peer keeps the window at 0, or
// reads nothing at all, so the socket never drains. Such a stream holds its queued bytes for as
// long as the peer likes; past --http-timeout without progress it is given up on (the session
// resets it with RST_STREAM CANCEL), and so is any stalled stream while the session's queued
// bytes exceed session-buffer. Checked a few times per timeout, never per frame: the framer only
// counts frames (SpdyStream.framesSent). The watch runs only while streams are open.

import type { FlowControl } from './flow-control.ts';
import type { SpdyStream } from './stream.ts';

/** Checks per timeout: a stall is caught between 1 and 1¼ timeouts after it began. */
const CHECKS_PER_TIMEOUT = 4;
/** No more often than this, however short the timeout. */
const MIN_CHECK_MS = 50;

export class StallWatch {
  readonly checkMs: number;
  private readonly stalledAfterChecks: number;
  private readonly sessionBufferBytes: number;
  private readonly flow: FlowControl;
  private timer: NodeJS.Timeout | null = null;
  /** The socket's 'drain' count at the last check: none since then, and it is stuck. */
  private drainsAtCheck = 0;

  constructor(timeoutMs: number, sessionBufferBytes: number, flow: FlowControl) {
    this.checkMs = Math.max(MIN_CHECK_MS, Math.floor(timeoutMs / CHECKS_PER_TIMEOUT));
    this.stalledAfterChecks = Math.ceil(timeoutMs / this.checkMs);
    this.sessionBufferBytes = sessionBufferBytes;
    this.flow = flow;
  }

  /** Runs `check` every checkMs until stop() (a second start() while running is a no-op). */
  start(check: () => void): void {
    if (this.timer !== null) return;
    this.timer = setInterval(check, this.checkMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * One check: notes which streams made no progress since the last one although they have
   * something to send and are blocked (by a window at 0, or by a socket that is backed up,
   * `socketNeedsDrain`, and has not drained since: `drains` is its 'drain' count), and returns
   * those to reset.
   */
  check(streams: Iterable<SpdyStream>, socketNeedsDrain: boolean, drains: number): SpdyStream[] {
    const socketStuck = socketNeedsDrain && drains === this.drainsAtCheck;
    this.drainsAtCheck = drains;
    const doomed: SpdyStream[] = [];
    const blocked: SpdyStream[] = [];
    let queuedBytes = 0;
    for (const stream of streams) {
      queuedBytes += stream.queuedBytes;
      const progressed = stream.framesSent !== stream.framesSentAtCheck;
      stream.framesSentAtCheck = stream.framesSent;
      if (progressed || stream.queue.length === 0 || !(socketStuck || this.windowBlocked(stream))) {
        stream.stalledChecks = 0;
        continue;
      }
      stream.stalledChecks++;
      blocked.push(stream);
      if (stream.stalledChecks >= this.stalledAfterChecks) doomed.push(stream);
    }
    if (queuedBytes > this.sessionBufferBytes) {
      // Over the session's bound: the blocked streams holding the most go first.
      blocked.sort((a, b) => b.queuedBytes - a.queuedBytes);
      for (const stream of blocked) {
        if (queuedBytes <= this.sessionBufferBytes) break;
        if (!doomed.includes(stream)) doomed.push(stream);
        queuedBytes -= stream.queuedBytes;
      }
    }
    return doomed;
  }

  /** True if every stream is stalled (blocked at the last check): the session is idle. */
  static allStalled(streams: Iterable<SpdyStream>): boolean {
    for (const stream of streams) if (stream.stalledChecks === 0) return false;
    return true;
  }

  private windowBlocked(stream: SpdyStream): boolean {
    return this.flow.sendEnabled && (stream.sendWindow <= 0 || (this.flow.hasSessionWindow && this.flow.sessionSendWindow <= 0));
  }
}
