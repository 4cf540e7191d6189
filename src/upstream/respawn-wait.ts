// Backends that come back: spry's managed uWSGI workers are respawned when they die, so a
// request whose retry finds no other node to try (`-p 1`, or every worker down at once) waits
// for one instead of failing with 502. It tries again every RETRY_MS (a refused connection to a
// unix socket costs microseconds; nothing of the request has reached a backend, or it is one the
// retry rule lets go twice), for at most `limitMs` from its first wait (--http-timeout: what a
// backend gets to answer anyway), then fails as before. At most MAX_WAITING requests wait per
// process; one more fails at once.

import type { ServerExchange } from '../exchange/exchange.ts';

/** Between attempts: a respawn takes 100 ms of backoff and then uWSGI's start-up. */
const RETRY_MS = 50;
const MAX_WAITING = 1024;

export class RespawnWait {
  readonly limitMs: number;
  private waiting = 0;

  constructor(limitMs: number) {
    this.limitMs = limitMs;
  }

  /**
   * Calls `retry` in a moment, unless the client goes first; false (nothing scheduled) once the
   * request has waited `limitMs` since `since`, or when MAX_WAITING requests already wait.
   */
  schedule(since: number, exchange: ServerExchange, retry: () => void): boolean {
    if (Date.now() - since >= this.limitMs || this.waiting >= MAX_WAITING) return false;
    this.waiting++;
    let waiting = true;
    const stop = (): void => {
      if (!waiting) return;
      waiting = false;
      this.waiting--;
      clearTimeout(timer);
    };
    const timer = setTimeout(() => {
      stop();
      if (!exchange.aborted) retry();
    }, RETRY_MS);
    exchange.onAbort = stop;
    return true;
  }
}
