// Budgets for what costs a peer nothing to send but costs us work: streams it resets before
// their response is done (the rapid-reset shape of CVE-2023-44487), frames we can only drop,
// and stream errors we answer with RST_STREAM. Each is counted per session over a sliding
// window; past its budget the verdict is a session error (GOAWAY, then close).

import type { StreamTuning } from '../config/config.ts';
import type { ErrorCode } from '../errors.ts';
import { GoawayStatus, type GoawayStatusCode } from './constants.ts';
import { SpdySessionError } from './protocol-error.ts';

/**
 * At most `limit` events in any `windowMs`, approximately: the count of the window before the
 * current one is weighted by how much of it the sliding window still covers (O(1), no log).
 */
export class SlidingBudget {
  private readonly limit: number;
  private readonly windowMs: number;
  private windowStart = 0;
  private current = 0;
  private previous = 0;

  constructor(limit: number, windowMs: number) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  /** Counts one event at `nowMs`; false once the budget is spent. */
  spend(nowMs: number): boolean {
    const elapsed = nowMs - this.windowStart;
    if (elapsed >= this.windowMs) {
      this.previous = elapsed >= 2 * this.windowMs ? 0 : this.current;
      this.current = 0;
      this.windowStart = elapsed >= 2 * this.windowMs ? nowMs : this.windowStart + this.windowMs;
    }
    this.current++;
    const overlap = 1 - (nowMs - this.windowStart) / this.windowMs;
    return this.previous * overlap + this.current <= this.limit;
  }
}

interface BudgetKind {
  readonly code: ErrorCode;
  readonly status: GoawayStatusCode;
  readonly what: string;
}

const RESETS: BudgetKind = { code: 'SPRY_ERR_SPDY_RAPID_RESET', status: GoawayStatus.INTERNAL_ERROR, what: 'streams reset by the peer before their response' };
const INVALID: BudgetKind = { code: 'SPRY_ERR_SPDY_INVALID_FRAMES', status: GoawayStatus.PROTOCOL_ERROR, what: 'frames for streams that are gone' };
const STREAM_ERRORS: BudgetKind = { code: 'SPRY_ERR_SPDY_STREAM_ERRORS', status: GoawayStatus.PROTOCOL_ERROR, what: 'stream errors' };

export class AbuseBudgets {
  private readonly resets: SlidingBudget;
  private readonly invalidFrames: SlidingBudget;
  private readonly streamErrors: SlidingBudget;
  private readonly tuning: StreamTuning;

  constructor(tuning: StreamTuning) {
    this.tuning = tuning;
    this.resets = new SlidingBudget(tuning.maxPeerResets, tuning.abuseWindowMs);
    this.invalidFrames = new SlidingBudget(tuning.maxInvalidFrames, tuning.abuseWindowMs);
    this.streamErrors = new SlidingBudget(tuning.maxStreamErrors, tuning.abuseWindowMs);
  }

  /** The peer reset a stream it opened before our response to it was done. */
  peerReset(): SpdySessionError | undefined {
    return this.spend(this.resets, this.tuning.maxPeerResets, RESETS);
  }

  /** A frame we drop unanswered (for a stream that is gone). */
  invalidFrame(): SpdySessionError | undefined {
    return this.spend(this.invalidFrames, this.tuning.maxInvalidFrames, INVALID);
  }

  /** A stream error we answer with RST_STREAM. */
  streamError(): SpdySessionError | undefined {
    return this.spend(this.streamErrors, this.tuning.maxStreamErrors, STREAM_ERRORS);
  }

  private spend(budget: SlidingBudget, limit: number, kind: BudgetKind): SpdySessionError | undefined {
    if (budget.spend(performance.now())) return undefined;
    return new SpdySessionError(kind.code, `more than ${limit} ${kind.what} within ${this.tuning.abuseWindowMs} ms`, kind.status);
  }
}
