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
  readonly streams = new Map<number, SpdyStream>();
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
    return this.streams.size;
  }

  get(id: number): SpdyStream | undefined {
    return this.streams.get(id);
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
      if (this.streams.has(id)) return new SpdyStreamError('SPRY_ERR_SPDY_BAD_STREAM_ID', id, RstStatus.PROTOCOL_ERROR, `SYN_STREAM reuses open stream id ${id}`);
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

  /** Forgets `stream`; false if it was not here. */
  remove(stream: SpdyStream): boolean {
    if (!this.streams.delete(stream.id)) return false;
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
