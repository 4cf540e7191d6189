// The outbound queues of a session (as nghttp2 keeps them): control frames first, in the order
// queued, then the streams with something to send, by priority (SPDY/3 §2.3.3: a stream is
// served only while no more urgent one can send), round-robin within a priority, one frame per
// stream per turn, until the socket asks us to wait ('drain' calls flush again).
//
// What a peer can make us queue is bounded: while the socket's write side is backed up
// (writableNeedDrain: more than write-buffer bytes waiting), control frames wait here instead of
// piling up in the socket, and while any wait, reading stops (so TCP's own backpressure reaches
// the peer) until 'drain'; queueControl reports when more are owed than the session allows.
// (A download alone never stops reading: the peer's WINDOW_UPDATEs and PINGs must get through.)

import type { Socket } from 'node:net';
import { RST_STREAM_BYTES, writeRstStream } from './frame-encoder.ts';
import type { SpdyStream } from './stream.ts';
import type { SpdyVersion } from './versions.ts';

/** The first size of the buffer control frames are gathered in (from Buffer's pool; it doubles as needed). */
const CONTROL_BUFFER_BYTES = 1024;

/** SPDY/3 has priorities 0-7 (SPDY/2 only 0-3, the same lists serve). */
const PRIORITY_LEVELS = 8;

/** Writes one stream's frames; the session's framer (stream-framer.ts). */
export interface FrameWriter {
  /** Writes the next frame of `stream`; true if it has more it can send now. */
  writeNext(stream: SpdyStream): boolean;
  /** True if `stream`'s next frame is DATA that only the session window stops. */
  heldBySessionWindow(stream: SpdyStream): boolean;
}

export class Scheduler {
  /**
   * Control frames not yet handed to the socket, back to back in one buffer (the next write
   * hands over all of it at once, and a fresh one starts: the socket keeps what it was given).
   */
  private control: Buffer | null = null;
  private controlBytes = 0;
  /** How many frames `control` holds. */
  owedControlFrames = 0;
  /** Streams with something to send, one round-robin list per priority (0 most urgent). */
  private ready: SpdyStream[][] = emptyReadyLists();
  /** The most urgent priority that may have a ready stream (a hint: lists may have emptied). */
  private readyFrom = PRIORITY_LEVELS;
  /**
   * Streams whose next frame is DATA that only the 3.1 session window stops: they wait aside,
   * in the order they were held, until a stream-0 WINDOW_UPDATE, so that the heads and empty
   * FINs of other streams (which no window governs) go on meanwhile.
   */
  private heldForSession: SpdyStream[] = [];
  private flushScheduled = false;
  private stopped = false;
  /** We paused the socket's reading because its write side was backed up. */
  private readingPaused = false;
  /** 'drain' events so far: none between two looks at a backed-up socket means it is stuck. */
  drains = 0;
  private readonly socket: Socket;
  private readonly writer: FrameWriter;
  private readonly maxOwedControlFrames: number;
  readonly flushBound = (): void => this.flush();
  /** The socket's 'drain': read again, and write what waited. */
  readonly drainBound = (): void => {
    this.drains++;
    if (this.readingPaused) {
      this.readingPaused = false;
      this.socket.resume();
    }
    this.flush();
  };

  constructor(socket: Socket, writer: FrameWriter, maxOwedControlFrames: number) {
    this.socket = socket;
    this.writer = writer;
    this.maxOwedControlFrames = maxOwedControlFrames;
  }

  /** `stream` has a frame to send: it joins the end of its priority's list. */
  wantsToSend(stream: SpdyStream): void {
    stream.scheduled = true;
    const level = stream.schedulingPriority;
    this.ready[level].push(stream);
    if (level < this.readyFrom) this.readyFrom = level;
    this.scheduleFlush();
  }

  /** The session window opened: the streams it held rejoin their lists, in the order held. */
  sessionWindowOpened(): void {
    const held = this.heldForSession;
    if (held.length === 0) return this.scheduleFlush();
    this.heldForSession = [];
    for (const stream of held) if (!stream.closed) this.wantsToSend(stream);
  }

  /**
   * Queues a control frame, ahead of every stream's frames. False once more control frames wait
   * for a backed-up socket than the session allows: the peer sends faster than it reads.
   */
  queueControl(frame: Buffer): boolean {
    frame.copy(this.room(frame.length), this.controlBytes);
    return this.queued(frame.length);
  }

  /** queueControl() for an RST_STREAM, written straight into the queue (a flood of bad requests answers each with one). */
  queueRstStream(version: SpdyVersion, streamId: number, status: number): boolean {
    writeRstStream(version, this.room(RST_STREAM_BYTES), this.controlBytes, streamId, status);
    return this.queued(RST_STREAM_BYTES);
  }

  /** Writes `frame` (GOAWAY) now, after the control frames before it, whatever the socket's state. */
  writeControlNow(frame: Buffer): void {
    frame.copy(this.room(frame.length), this.controlBytes);
    this.controlBytes += frame.length;
    this.owedControlFrames++;
    if (this.stopped || this.socket.writableEnded) return;
    this.writeControl();
  }

  /** Forgets the control frames still waiting (a peer that does not read gets only the GOAWAY). */
  dropControl(): void {
    this.controlBytes = 0;
    this.owedControlFrames = 0;
  }

  /** Bytes held for the peer: waiting in the socket, and control frames waiting here. */
  heldBytes(): number {
    return this.socket.writableLength + this.controlBytes;
  }

  /** The control buffer, with room for `bytes` more after controlBytes. */
  private room(bytes: number): Buffer {
    const needed = this.controlBytes + bytes;
    const control = this.control;
    if (control !== null && control.length >= needed) return control;
    let size = control === null ? CONTROL_BUFFER_BYTES : control.length * 2;
    while (size < needed) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    if (control !== null) control.copy(bigger, 0, 0, this.controlBytes);
    this.control = bigger;
    return bigger;
  }

  /** A frame of `bytes` was written into the control buffer: false once more are owed than allowed. */
  private queued(bytes: number): boolean {
    this.controlBytes += bytes;
    this.owedControlFrames++;
    this.scheduleFlush();
    if (this.socket.writableNeedDrain) this.pauseReading();
    return this.owedControlFrames <= this.maxOwedControlFrames;
  }

  scheduleFlush(): void {
    if (this.flushScheduled || this.stopped) return;
    this.flushScheduled = true;
    process.nextTick(this.flushBound);
  }

  /** The streams are gone (the session failed): only control frames may still go out. */
  dropStreams(): void {
    this.ready = emptyReadyLists();
    this.heldForSession = [];
  }

  /** The socket is gone: nothing more is written. */
  stop(): void {
    this.stopped = true;
    this.dropStreams();
  }

  flush(): void {
    this.flushScheduled = false;
    // Once the socket is ended nothing more may go out: a write after end() errors and destroys
    // the socket, discarding the GOAWAY still buffered in it. (Streams the peer opened after our
    // GOAWAY are refused by that GOAWAY already.)
    if (this.stopped || this.socket.writableEnded) return;
    const socket = this.socket;
    socket.cork();
    if (this.owedControlFrames > 0 && !socket.writableNeedDrain) this.writeControl();
    const lists = this.ready;
    while (!socket.writableNeedDrain) {
      let level = this.readyFrom;
      while (level < PRIORITY_LEVELS && lists[level].length === 0) level++;
      this.readyFrom = level;
      if (level === PRIORITY_LEVELS) break;
      // Take the whole round; streams that still have sendable data join the next one.
      const round = lists[level];
      lists[level] = [];
      let i = 0;
      for (; i < round.length; i++) {
        const stream = round[i];
        if (socket.writableNeedDrain) break;
        if (this.writer.heldBySessionWindow(stream)) {
          this.heldForSession.push(stream); // still scheduled: it waits aside
          continue;
        }
        const more = this.writer.writeNext(stream);
        if (!more) {
          stream.scheduled = false;
        } else if (stream.schedulingPriority === level) {
          lists[level].push(stream);
        } else {
          lists[stream.schedulingPriority].push(stream);
          if (stream.schedulingPriority < this.readyFrom) this.readyFrom = stream.schedulingPriority;
        }
        // A write's callback may have woken a more urgent stream: it goes first.
        if (this.readyFrom < level) {
          i++;
          break;
        }
      }
      // Stopped early: the rest keep their turn ahead of the new round.
      if (i < round.length) lists[level] = round.slice(i).concat(lists[level]);
    }
    socket.uncork();
    if (this.owedControlFrames > 0) this.pauseReading();
  }

  /**
   * Hands every queued control frame to the socket in one write: a flood of small frames (an
   * RST_STREAM for each bad request of a read) costs one trip through the stream and TLS
   * machinery, not one per frame (bench scenario 9, bad targets).
   */
  private writeControl(): void {
    this.socket.write(this.control!.subarray(0, this.controlBytes));
    this.control = null;
    this.controlBytes = 0;
    this.owedControlFrames = 0;
  }

  private pauseReading(): void {
    if (this.readingPaused || this.stopped) return;
    this.readingPaused = true;
    this.socket.pause();
  }
}

function emptyReadyLists(): SpdyStream[][] {
  return Array.from({ length: PRIORITY_LEVELS }, () => []);
}
