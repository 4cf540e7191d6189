// How a session ends, in one place: the phase it is in (open; closing: no new streams, the
// socket ends with the last one; ended: our side of the socket is ended, nothing more is decoded
// or queued, and the peer has CLOSE_GRACE_MS to read the last frames; destroyed: the socket is
// gone), what each phase allows, and the ending itself: the socket, the grace timer, and freeing
// what the parts hold. It never sends a frame: the GOAWAY before an end is the session's to
// send (docs/spdy-protocol.md §12).

import type { Socket } from 'node:net';
import type { HeaderInflater } from './compression.ts';
import type { FlowControl } from './flow-control.ts';
import type { FrameDecoder } from './frame-decoder.ts';
import type { Scheduler } from './scheduler.ts';
import type { SpdyStream } from './stream.ts';
import type { StreamFramer } from './stream-framer.ts';
import type { StreamRegistry } from './stream-registry.ts';

/** After our side ends, how long the peer gets to read the GOAWAY before the socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

const Phase = { OPEN: 0, CLOSING: 1, ENDED: 2, DESTROYED: 3 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/** What a session holds that its end frees. */
export interface SessionParts {
  readonly socket: Socket;
  readonly decoder: FrameDecoder;
  readonly inflater: HeaderInflater;
  readonly registry: StreamRegistry;
  readonly flow: FlowControl;
  readonly scheduler: Scheduler;
  readonly framer: StreamFramer;
  /** Streams opened by the chunk being decoded, not yet handed to the app. */
  readonly opened: SpdyStream[];
}

export class SessionLifecycle {
  goawaySent = false;
  goawayReceived = false;
  private phase: Phase = Phase.OPEN;
  private closeEmitted = false;
  private readonly parts: SessionParts;

  constructor(parts: SessionParts) {
    this.parts = parts;
  }

  /** Our side of the socket is ended (or the socket is gone): nothing more can be written. */
  get ended(): boolean {
    return this.phase >= Phase.ENDED;
  }

  get destroyed(): boolean {
    return this.phase === Phase.DESTROYED;
  }

  /** No GOAWAY either way, no close under way: a stream may be opened. */
  get open(): boolean {
    return this.phase === Phase.OPEN && !this.goawaySent && !this.goawayReceived;
  }

  /** No new streams; the socket ends once the last open one is gone. */
  closeWhenDone(): void {
    if (this.phase !== Phase.OPEN) return;
    this.phase = Phase.CLOSING;
    if (this.parts.registry.size === 0) this.end();
  }

  /** A stream was forgotten: a closing session ends with its last one. */
  streamGone(): void {
    if (this.phase === Phase.CLOSING && this.parts.registry.size === 0) this.end();
  }

  /** Ends our side (after the frames already written), and destroys the socket after the grace. */
  end(): void {
    if (this.phase >= Phase.ENDED) return;
    this.phase = Phase.ENDED;
    this.parts.decoder.stop();
    this.parts.socket.end();
    const timer = setTimeout(() => this.parts.socket.destroy(), CLOSE_GRACE_MS);
    timer.unref();
  }

  /** Destroys the socket now; false if it was gone already. */
  destroy(): boolean {
    if (this.phase === Phase.DESTROYED) return false;
    this.phase = Phase.DESTROYED;
    this.parts.socket.destroy();
    return true;
  }

  /** The socket closed, or the peer ended it; false if we knew already. */
  socketGone(): boolean {
    if (this.phase === Phase.DESTROYED) return false;
    this.phase = Phase.DESTROYED;
    return true;
  }

  /**
   * Frees what the streams held and aborts them with `reason`. Once the socket is gone, also
   * the compression contexts; true then, the first time: the session's 'close' is due.
   */
  teardown(reason: Error): boolean {
    const { registry, flow, scheduler, opened } = this.parts;
    const streams = registry.clear();
    opened.length = 0;
    flow.stop();
    if (this.phase === Phase.DESTROYED) scheduler.stop();
    else scheduler.dropStreams();
    for (const stream of streams) stream.terminate(reason);
    if (this.phase !== Phase.DESTROYED || this.closeEmitted) return false;
    this.closeEmitted = true;
    this.parts.inflater.close();
    this.parts.framer.close();
    return true;
  }
}
