// h2 streams that cannot send: the response is queued, but the client keeps the stream's window
// at 0 (or reads nothing), so none of it leaves. node:http2's own stream timeout cannot tell:
// it re-arms whenever the session writes anything, PING acknowledgements included, so a client
// that keeps its window shut and pings is never timed out. Here progress is the stream's own:
// the bytes the app wrote, less those still waiting in the stream (writableLength counts every
// byte whose write has not completed, and node:http2 completes a write once nghttp2 has framed
// it, which the window governs). A stream with bytes waiting and none completed for
// --http-timeout is reset with CANCEL. One timer per front end, a few checks per timeout; a
// stream leaves the watch when it closes, so the watch holds only open streams (it held every
// stream served since the last check, ~15 s of them at the default timeout, and the old space
// they were promoted to).

import { constants as http2Constants, type ServerHttp2Stream } from 'node:http2';

/** Checks per timeout: a stall is caught between 1 and 1¼ timeouts after it began. */
const CHECKS_PER_TIMEOUT = 4;
/** No more often than this, however short the timeout. */
const MIN_CHECK_MS = 50;

/** What the watch needs of a response: its stream, and how many body bytes the app wrote to it. */
export interface WatchedResponse {
  readonly stream: ServerHttp2Stream;
  readonly bodyBytesWritten: number;
}

interface Watch {
  completedAtCheck: number;
  stalledChecks: number;
}

export class Http2StallWatch {
  private readonly checkMs: number;
  private readonly stalledAfterChecks: number;
  /** Open responses; their counts are made at the first check that finds them open. */
  private readonly watched = new Map<WatchedResponse, Watch | undefined>();
  private timer: NodeJS.Timeout | null = null;

  constructor(timeoutMs: number) {
    this.checkMs = Math.max(MIN_CHECK_MS, Math.floor(timeoutMs / CHECKS_PER_TIMEOUT));
    this.stalledAfterChecks = Math.ceil(timeoutMs / this.checkMs);
  }

  /** Watches `response` until its stream closes. */
  watch(response: WatchedResponse): void {
    this.watched.set(response, undefined);
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.check(), this.checkMs);
    this.timer.unref();
  }

  /** `response`'s stream closed. */
  unwatch(response: WatchedResponse): void {
    this.watched.delete(response);
  }

  private check(): void {
    for (const [response, seen] of this.watched) {
      const stream = response.stream;
      if (stream.destroyed || stream.closed) {
        this.watched.delete(response);
        continue;
      }
      let watch = seen;
      if (watch === undefined) this.watched.set(response, (watch = { completedAtCheck: 0, stalledChecks: 0 }));
      const waiting = stream.writableLength;
      const completed = response.bodyBytesWritten - waiting;
      // Nothing waiting: the app has yet to answer (its own business, or a backend's 504).
      if (waiting === 0 || completed !== watch.completedAtCheck) watch.stalledChecks = 0;
      else if (++watch.stalledChecks >= this.stalledAfterChecks) {
        this.watched.delete(response);
        stream.close(http2Constants.NGHTTP2_CANCEL);
        continue;
      }
      watch.completedAtCheck = completed;
    }
    if (this.watched.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}
