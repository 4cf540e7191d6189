import { type ErrorCode, SpryError } from '../errors.ts';
import type { RequestHeadProblem } from '../exchange/request-validation.ts';
import { GoawayStatus, type GoawayStatusCode, type RstStatusCode } from './constants.ts';

/**
 * A peer broke the protocol. A stream error is answered with RST_STREAM(status) and the session
 * lives on; a session error with GOAWAY(status), then the connection is closed (docs/spdy-protocol.md §12).
 */
export type SpdyProtocolError = SpdyStreamError | SpdySessionError;

/**
 * Turns stack capture off for the error about to be made, returning the limit to restore. A
 * peer's fault has no stack worth keeping, and capturing one was most of what a flood of bad
 * requests cost (bench scenario 9, bad targets on SPDY/3.1: ~34 -> ~25 µs of CPU a request).
 */
function stackOff(): number {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  return limit;
}

export class SpdyStreamError extends SpryError {
  readonly scope = 'stream';
  readonly streamId: number;
  readonly status: RstStatusCode;
  /** The request-head problem this error reports, whose message is written only when read. */
  private readonly problem: RequestHeadProblem | undefined;
  constructor(code: ErrorCode, streamId: number, status: RstStatusCode, message: string | RequestHeadProblem) {
    const limit = stackOff();
    // Error makes `message` an own property only when given one; the getter below answers otherwise.
    super(code, typeof message === 'string' ? message : undefined);
    Error.stackTraceLimit = limit;
    this.streamId = streamId;
    this.status = status;
    this.problem = typeof message === 'string' ? undefined : message;
    this.name = 'SpdyStreamError';
  }

  static {
    // A bad request's message is read only to trace it: a flood of them need not write each one.
    Object.defineProperty(this.prototype, 'message', {
      configurable: true,
      get(this: SpdyStreamError): string {
        return this.problem?.message ?? '';
      },
    });
  }
}

export class SpdySessionError extends SpryError {
  readonly scope = 'session';
  readonly status: GoawayStatusCode;
  constructor(code: ErrorCode, message: string, status: GoawayStatusCode = GoawayStatus.PROTOCOL_ERROR) {
    const limit = stackOff();
    super(code, message);
    Error.stackTraceLimit = limit;
    this.status = status;
    this.name = 'SpdySessionError';
  }
}
