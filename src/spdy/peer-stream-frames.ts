// What the peer's RST_STREAM, SYN_REPLY/HEADERS and WINDOW_UPDATE do to the streams they name
// (SPDY/3 §2.6.2-§2.6.3, §2.6.7, §2.6.8): the stream learns of it (its reset, its response head,
// its FIN, its grown window) and the verdict goes back to the session, which alone answers with
// RST_STREAM or GOAWAY (docs/spdy-protocol.md §12). Forgetting a stream that leaves is here too,
// since a reset is where most of them leave.

import { SpryError } from '../errors.ts';
import type { FlatHeaders } from '../exchange/exchange.ts';
import type { AbuseBudgets } from './abuse-budget.ts';
import { bodyLengthFault } from './body-length.ts';
import { rstStatusName } from './constants.ts';
import type { FlowControl } from './flow-control.ts';
import type { SpdyProtocolError } from './protocol-error.ts';
import type { PushLedger } from './push-ledger.ts';
import { DROP, checkHeaders } from './recv.ts';
import type { SessionRole } from './role.ts';
import type { Scheduler } from './scheduler.ts';
import type { SessionLifecycle } from './session-lifecycle.ts';
import type { SpdyStream } from './stream.ts';
import type { StreamRegistry } from './stream-registry.ts';
import type { SpdyVersion } from './versions.ts';

/** The session's parts these frames touch. */
export interface PeerStreamFrameParts {
  readonly version: SpdyVersion;
  readonly role: SessionRole;
  readonly registry: StreamRegistry;
  readonly flow: FlowControl;
  readonly scheduler: Scheduler;
  readonly pushes: PushLedger;
  readonly life: SessionLifecycle;
  readonly budgets: AbuseBudgets;
}

function resetReason(id: number, status: number): SpryError {
  return new SpryError('SPRY_ERR_SPDY_STREAM_RESET', `the peer reset stream ${id} (${rstStatusName(status)})`);
}

/** The reason handed to a reset stream that has no abort listener (SpdyStream.terminate reads it only for one). */
const UNHEARD = (): SpryError => new SpryError('SPRY_ERR_SPDY_STREAM_RESET', 'the peer reset the stream');

export class PeerStreamFrames {
  private readonly parts: PeerStreamFrameParts;

  constructor(parts: PeerStreamFrameParts) {
    this.parts = parts;
  }

  /** RST_STREAM: the stream, and the pushes that came with it, end; a wasted request spends the rapid-reset budget. */
  rstStream(id: number, status: number): SpdyProtocolError | undefined {
    const { registry, budgets, pushes } = this.parts;
    const stream = registry.get(id);
    if (stream !== undefined) {
      // Work the peer asked for and threw away before it was done: the rapid-reset budget.
      const wasted = stream.isServerStream && !stream.localFin;
      this.forget(stream);
      // (Without a listener nothing reads the reason: a rapid reset's streams never reached the app.)
      stream.terminate(stream.onAbort === null ? UNHEARD : resetReason(id, status));
      const verdict = wasted ? budgets.peerReset() : undefined;
      if (verdict !== undefined) return verdict;
    } else if (!registry.wasKnown(id)) {
      return budgets.invalidFrame(); // a stream that never was has no pushes either
    }
    // Cancelling a request cancels the pushes that came with it, even once its own response
    // has ended (SPDY/3 §3.3.2).
    const pushed = pushes.pushesOf(id);
    for (let i = 0; i < pushed.length; i++) {
      this.forget(pushed[i]);
      pushed[i].terminate(resetReason(id, status));
    }
    return undefined;
  }

  /** A SYN_REPLY (`isReply`) or HEADERS frame, its block inflated already. */
  replyOrHeaders(id: number, headers: FlatHeaders, fin: boolean, isReply: boolean): SpdyProtocolError | undefined {
    const { role, version, registry, budgets } = this.parts;
    const verdict = checkHeaders(role, version, registry, id, isReply);
    if (verdict === DROP) return budgets.invalidFrame();
    if (verdict !== undefined) return verdict;
    const stream = registry.get(id)!;
    if (isReply) {
      stream.gotReply = true;
      stream.onResponse?.(headers);
    } else {
      stream.onHeaders?.(headers);
    }
    if (!fin) return undefined;
    // A request's FIN on HEADERS ends its body too: it must be as long as it said.
    const short = bodyLengthFault(id, stream.declaredBodyBytes, stream.receivedBodyBytes, true);
    if (short !== undefined) return short;
    stream.receiveFin();
    return undefined;
  }

  /** WINDOW_UPDATE: the session's window (3.1) or a stream's grows, and what it held back may go. */
  windowUpdate(streamId: number, delta: number): SpdyProtocolError | undefined {
    const { flow, registry, scheduler } = this.parts;
    if (!flow.sendEnabled) return undefined;
    if (streamId === 0) {
      if (!flow.hasSessionWindow) return undefined; // meaningless before 3.1 (docs/spdy-protocol.md §6)
      const verdict = flow.growSessionWindow(delta);
      if (verdict === undefined && !flow.sessionBlocked()) scheduler.sessionWindowOpened();
      return verdict;
    }
    // A stream whose response is done but whose upload is still open is still a stream: its
    // window may overflow too (SPDY/3 §2.6.8).
    const stream = registry.get(streamId);
    if (stream === undefined) return registry.wasKnown(streamId) ? undefined : this.parts.budgets.invalidFrame();
    const verdict = flow.growStreamWindow(stream, delta);
    if (verdict === undefined) this.wakeIfQueued(stream);
    return verdict;
  }

  /** A stream with frames queued and not scheduled (its window had stopped it) is scheduled again. */
  wakeIfQueued(stream: SpdyStream): void {
    if (stream.queue.length > 0 && !stream.scheduled) this.parts.scheduler.wantsToSend(stream);
  }

  /** `stream` leaves the session: its windows, its id, its place among the pushes. */
  forget(stream: SpdyStream): void {
    const { flow, registry, pushes, life } = this.parts;
    flow.forget(stream);
    if (registry.remove(stream)) {
      if (!stream.isServerStream && stream.associatedStreamId !== 0) pushes.closed(stream);
      life.streamGone();
    }
  }
}
