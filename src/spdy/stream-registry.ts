// The streams of one session by id: which ids each end may open next, whether a peer's
// SYN_STREAM may open a stream (ids only go up, SPDY/3 §2.3.2; at most the announced number at
// once, SPDY/3 §2.6.4), and which closed ids to recognise so that frames still in flight for them are
// dropped quietly. Its checks return verdicts: the session sends the RST_STREAM or GOAWAY.

import { MAX_STREAM_ID, RstStatus } from './constants.ts';
import type { SynStreamFrame } from './frames.ts';
import { SpdySessionError, SpdyStreamError, type SpdyProtocolError } from './protocol-error.ts';
import { isPeerId, type SessionRole } from './role.ts';
import type { SpdyStream } from './stream.ts';

/** How many recently reset stream ids we remember, to drop their in-flight DATA quietly. */
const RECENTLY_RESET_MEMORY = 64;

export class StreamRegistry {
  /** The open streams, but for those the read being decoded opened (`pending`) until settle(). */
  readonly streams = new Map<number, SpdyStream>();
  /**
   * Request streams the read being decoded opened, by ascending id: they join `streams` once
   * the whole read is (settle()), so that one the same read resets (rapid reset) never enters
   * the Map (a set and a delete per stream, and the Map's rehashing of deleted entries).
   */
  private readonly pending: SpdyStream[] = [];
  /** Highest stream id the peer opened (GOAWAY's last-good-stream-id). */
  lastPeerStreamId = 0;
  /** Open streams the peer opened (requests, server side). */
  private peerStreamCount = 0;
  private nextLocalStreamId: number;
  private readonly recentlyReset: number[] = [];
  private readonly role: SessionRole;
  private readonly maxConcurrentStreams: number;

  constructor(role: SessionRole, maxConcurrentStreams: number) {
    this.role = role;
    this.maxConcurrentStreams = maxConcurrentStreams;
    this.nextLocalStreamId = role.firstLocalStreamId;
  }

  get size(): number {
    return this.streams.size + this.pending.length;
  }

  get(id: number): SpdyStream | undefined {
    return this.streams.get(id) ?? (this.pending.length === 0 ? undefined : this.pendingAt(id, false));
  }

  /** The pending stream `id` (from the newest: a reset names the stream just opened), removed if `take`. */
  private pendingAt(id: number, take: boolean): SpdyStream | undefined {
    const pending = this.pending;
    for (let i = pending.length - 1; i >= 0; i--) {
      const stream = pending[i];
      if (stream.id === id) {
        // (pop() for the newest, the usual case: splice() makes an array of what it removes.)
        if (take && i === pending.length - 1) pending.pop();
        else if (take) pending.splice(i, 1);
        return stream;
      }
      if (stream.id < id) return undefined;
    }
    return undefined;
  }

  /** The streams the read opened join the others (at the end of every read, and before anything looks at them all). */
  settle(): void {
    const pending = this.pending;
    for (let i = 0; i < pending.length; i++) this.streams.set(pending[i].id, pending[i]);
    pending.length = 0;
  }

  /** The id for a stream we open, or undefined once the 31-bit ids are used up. */
  takeLocalId(): number | undefined {
    const id = this.nextLocalStreamId;
    if (id > MAX_STREAM_ID) return undefined;
    this.nextLocalStreamId += 2;
    return id;
  }

  /**
   * May a client's SYN_STREAM open a request stream? Notes its id as the last the peer opened
   * (unless the id itself is the fault). `headerError` is the block's own fault, which ranks
   * after the id and state checks.
   */
  admitRequest(frame: SynStreamFrame, goawaySent: boolean, headerError: SpdyStreamError | undefined): SpdyProtocolError | undefined {
    const id = frame.streamId;
    if (id % 2 === 0) return new SpdyStreamError('SPRY_ERR_SPDY_BAD_STREAM_ID', id, RstStatus.PROTOCOL_ERROR, `client SYN_STREAM with even id ${id}`);
    if (id <= this.lastPeerStreamId) {
      if (this.get(id) !== undefined) return new SpdyStreamError('SPRY_ERR_SPDY_BAD_STREAM_ID', id, RstStatus.PROTOCOL_ERROR, `SYN_STREAM reuses open stream id ${id}`);
      return new SpdySessionError('SPRY_ERR_SPDY_BAD_STREAM_ID', `SYN_STREAM id ${id} is not above the last one, ${this.lastPeerStreamId}`);
    }
    this.lastPeerStreamId = id;
    if (frame.associatedStreamId !== 0 || frame.unidirectional) {
      return new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', id, RstStatus.PROTOCOL_ERROR, `client SYN_STREAM ${id} is associated or unidirectional`);
    }
    if (goawaySent) return new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', id, RstStatus.REFUSED_STREAM, `SYN_STREAM ${id} after GOAWAY`);
    if (headerError !== undefined) return headerError;
    if (this.peerStreamCount >= this.maxConcurrentStreams) {
      return new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', id, RstStatus.REFUSED_STREAM, `more than ${this.maxConcurrentStreams} concurrent streams`);
    }
    return undefined;
  }

  /** May a server's SYN_STREAM open a push (client side)? */
  admitPush(frame: SynStreamFrame, headerError: SpdyStreamError | undefined): SpdyProtocolError | undefined {
    const id = frame.streamId;
    if (id % 2 !== 0 || id <= this.lastPeerStreamId) return new SpdySessionError('SPRY_ERR_SPDY_BAD_STREAM_ID', `server SYN_STREAM with id ${id}`);
    this.lastPeerStreamId = id;
    if (!this.streams.has(frame.associatedStreamId) || !frame.unidirectional) {
      return new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', id, RstStatus.PROTOCOL_ERROR, `push ${id} is not unidirectional or names no open stream`);
    }
    return headerError;
  }

  add(stream: SpdyStream): void {
    this.streams.set(stream.id, stream);
    if (stream.isServerStream) this.peerStreamCount++;
  }

  /** add() for a request stream a peer's SYN_STREAM opened in the read being decoded (its id above every other). */
  addOpened(stream: SpdyStream): void {
    this.pending.push(stream);
    this.peerStreamCount++;
  }

  /** Forgets `stream`; false if it was not here. */
  remove(stream: SpdyStream): boolean {
    if (!this.streams.delete(stream.id) && (this.pending.length === 0 || this.pendingAt(stream.id, true) === undefined)) return false;
    if (stream.isServerStream) this.peerStreamCount--;
    return true;
  }

  /** Remembers that we reset `id`, so DATA the peer sent before it knew is dropped quietly. */
  noteReset(id: number): void {
    this.recentlyReset.push(id);
    if (this.recentlyReset.length > RECENTLY_RESET_MEMORY) this.recentlyReset.shift();
  }

  /** True for a closed stream whose late frames need no answer: we reset it, or it was opened once. */
  wasKnown(id: number): boolean {
    return this.recentlyReset.includes(id) || this.wasOpened(id);
  }

  /** Empties the registry, returning what was open. */
  clear(): SpdyStream[] {
    this.settle();
    const streams = [...this.streams.values()];
    this.streams.clear();
    this.peerStreamCount = 0;
    return streams;
  }

  /** True if the id's parity says which end opened it, and that end has opened it already. */
  private wasOpened(streamId: number): boolean {
    if (isPeerId(this.role, streamId)) return streamId <= this.lastPeerStreamId;
    return streamId < this.nextLocalStreamId;
  }
}
