// The pushes a server session has open: how many (the client's SETTINGS_MAX_CONCURRENT_STREAMS
// bounds them), which request each came with (cancelling a request cancels its pushes, even
// once its own response has ended: SPDY/3 §3.3.2), and which paths this connection has had
// pushed already (the planner's per-connection memory).

import type { SpdyStream } from './stream.ts';

export class PushLedger {
  /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS. */
  peerMaxConcurrentStreams = Infinity;
  /** Paths pushed on this connection already. */
  pushedPaths: Set<string> | null = null;
  private open = 0;
  private readonly byRequest = new Map<number, Set<SpdyStream>>();

  /** True while one more push stays within the peer's stream limit. */
  mayOpen(): boolean {
    return this.open < this.peerMaxConcurrentStreams;
  }

  opened(parentId: number, push: SpdyStream): void {
    this.open++;
    let siblings = this.byRequest.get(parentId);
    if (siblings === undefined) this.byRequest.set(parentId, (siblings = new Set()));
    siblings.add(push);
  }

  closed(push: SpdyStream): void {
    this.open--;
    const siblings = this.byRequest.get(push.associatedStreamId);
    if (siblings !== undefined && siblings.delete(push) && siblings.size === 0) this.byRequest.delete(push.associatedStreamId);
  }

  /** The pushes still open that came with request `requestId` (a copy: closing them edits the ledger). */
  pushesOf(requestId: number): SpdyStream[] {
    const siblings = this.byRequest.get(requestId);
    return siblings === undefined ? NONE : [...siblings];
  }
}

const NONE: SpdyStream[] = [];
