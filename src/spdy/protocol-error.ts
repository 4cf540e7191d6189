import { type ErrorCode, SpryError } from '../errors.ts';
import { GoawayStatus, type GoawayStatusCode, type RstStatusCode } from './constants.ts';

/**
 * A peer broke the protocol. A stream error is answered with RST_STREAM(status) and the session
 * lives on; a session error with GOAWAY(status), then the connection is closed (docs/spdy-protocol.md §12).
 */
export type SpdyProtocolError = SpdyStreamError | SpdySessionError;

export class SpdyStreamError extends SpryError {
  readonly scope = 'stream';
  readonly streamId: number;
  readonly status: RstStatusCode;
  constructor(code: ErrorCode, streamId: number, status: RstStatusCode, message: string) {
    super(code, message);
    this.streamId = streamId;
    this.status = status;
    this.name = 'SpdyStreamError';
  }
}

export class SpdySessionError extends SpryError {
  readonly scope = 'session';
  readonly status: GoawayStatusCode;
  constructor(code: ErrorCode, message: string, status: GoawayStatusCode = GoawayStatus.PROTOCOL_ERROR) {
    super(code, message);
    this.status = status;
    this.name = 'SpdySessionError';
  }
}
