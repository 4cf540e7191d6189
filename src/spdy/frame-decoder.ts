// An incremental SPDY frame decoder: bytes in, frames out, never touching a socket.
//
// A state machine in the manner of ws's receiver: it waits until the bytes the next step needs
// have arrived, checks every length the moment the frame header is read (before buffering a
// byte of payload), hands out views instead of copies, and streams DATA payloads piece by piece
// so a 16 MiB frame is never buffered. Errors go to the sink with the status the session must
// send; a session error stops the decoder for good. See
// docs/spdy-protocol.md §2, §3, §12 and §17.

import { FLAG_FIN, FLAG_SETTINGS_CLEAR_SETTINGS, FLAG_UNIDIRECTIONAL, FRAME_HEADER_BYTES, FrameType, RstStatus } from './constants.ts';
import type { ControlFrame, FrameSink, RstStreamFrame, SettingsEntry, SynStreamFrame } from './frames.ts';
import { SpdySessionError, SpdyStreamError } from './protocol-error.ts';
import type { SpdyVersion } from './versions.ts';

const STREAM_ID_MASK = 0x7fff_ffff;

const Step = {
  HEADER: 0,
  CONTROL_PAYLOAD: 1,
  DATA_PAYLOAD: 2,
  SKIP_PAYLOAD: 3,
  FAILED: 4,
} as const;
type Step = (typeof Step)[keyof typeof Step];

export interface FrameDecoderLimits {
  /** Largest control frame payload accepted; SPDY/3 requires at least 8192. */
  readonly maxControlFrameBytes: number;
}

export class FrameDecoder {
  private readonly version: SpdyVersion;
  private readonly sink: FrameSink;
  private readonly maxControlFrameBytes: number;

  private state: Step = Step.HEADER;
  /** Holds a frame header that arrived split across chunks. */
  private readonly headerBytes = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  private headerFill = 0;

  // The frame being read.
  private controlType = 0;
  private controlVersion = 0;
  private flags = 0;
  private length = 0;
  private dataStreamId = 0;
  private remaining = 0;
  /** A control payload that arrived split across chunks. */
  private payload: Buffer | null = null;
  private payloadFill = 0;
  /**
   * The one SYN_STREAM and the one RST_STREAM object every such frame is handed over in (the
   * sink's only during onControlFrame, frames.ts): the two frames a flood of requests and
   * resets is made of need no object each.
   */
  private readonly synStream: Mutable<SynStreamFrame> = {
    type: FrameType.SYN_STREAM,
    streamId: 0,
    associatedStreamId: 0,
    priority: 0,
    slot: 0,
    fin: false,
    unidirectional: false,
    headerBlock: EMPTY,
  };
  private readonly rstStream: Mutable<RstStreamFrame> = { type: FrameType.RST_STREAM, streamId: 0, status: 0 };

  constructor(version: SpdyVersion, sink: FrameSink, limits: FrameDecoderLimits) {
    this.version = version;
    this.sink = sink;
    this.maxControlFrameBytes = limits.maxControlFrameBytes;
  }

  /** True once a session error, or stop(), ended decoding. */
  get failed(): boolean {
    return this.state === Step.FAILED;
  }

  /** Decodes nothing more, not even the rest of the chunk being pushed (the session is over). */
  stop(): void {
    this.state = Step.FAILED;
    this.payload = null;
  }

  push(chunk: Buffer): void {
    let offset = 0;
    const end = chunk.length;
    while (offset < end) {
      switch (this.state) {
        case Step.HEADER: {
          if (this.headerFill === 0 && end - offset >= FRAME_HEADER_BYTES) {
            this.startFrame(chunk, offset);
            offset += FRAME_HEADER_BYTES;
          } else {
            const take = Math.min(FRAME_HEADER_BYTES - this.headerFill, end - offset);
            chunk.copy(this.headerBytes, this.headerFill, offset, offset + take);
            this.headerFill += take;
            offset += take;
            if (this.headerFill < FRAME_HEADER_BYTES) return;
            this.headerFill = 0;
            this.startFrame(this.headerBytes, 0);
          }
          break;
        }
        case Step.CONTROL_PAYLOAD: {
          const length = this.length;
          if (this.payload === null && end - offset >= length) {
            // Read in place: no view of the payload is made (a flood of small frames would pay for one each).
            const at = offset;
            offset += length;
            this.state = Step.HEADER;
            this.finishControlFrame(chunk, at, offset);
          } else {
            if (this.payload === null) {
              this.payload = Buffer.allocUnsafe(length);
              this.payloadFill = 0;
            }
            const take = Math.min(length - this.payloadFill, end - offset);
            chunk.copy(this.payload, this.payloadFill, offset, offset + take);
            this.payloadFill += take;
            offset += take;
            if (this.payloadFill < length) return;
            const payload = this.payload;
            this.payload = null;
            this.state = Step.HEADER;
            this.finishControlFrame(payload, 0, length);
          }
          break;
        }
        case Step.DATA_PAYLOAD: {
          const take = Math.min(this.remaining, end - offset);
          this.remaining -= take;
          const last = this.remaining === 0;
          if (last) this.state = Step.HEADER;
          this.sink.onData(this.dataStreamId, chunk.subarray(offset, offset + take), last && (this.flags & FLAG_FIN) !== 0);
          offset += take;
          break;
        }
        case Step.SKIP_PAYLOAD: {
          const take = Math.min(this.remaining, end - offset);
          this.remaining -= take;
          offset += take;
          if (this.remaining === 0) this.state = Step.HEADER;
          break;
        }
        case Step.FAILED:
          return;
      }
    }
  }

  /** Reads the 8-byte frame header at `at` and decides what the payload needs. */
  private startFrame(bytes: Buffer, at: number): void {
    const first = bytes.readUInt32BE(at);
    this.flags = bytes[at + 4];
    this.length = ((bytes[at + 5] << 16) | (bytes[at + 6] << 8) | bytes[at + 7]) >>> 0;

    if ((first & 0x8000_0000) === 0) {
      this.startDataFrame(first & STREAM_ID_MASK);
      return;
    }
    this.controlVersion = (first >>> 16) & 0x7fff;
    this.controlType = first & 0xffff;
    if (!isKnownType(this.controlType, this.version)) {
      // Unknown control types are ignored, whatever their size, skipping exactly `length`
      // bytes (docs/spdy-protocol.md §17.5); nothing is buffered.
      this.skip(this.length);
      return;
    }
    const problem = this.checkControlLength(this.controlType, this.length);
    if (problem !== undefined) {
      this.fail(new SpdySessionError('SPRY_ERR_SPDY_BAD_FRAME_LENGTH', problem));
      return;
    }
    if (this.length > this.maxControlFrameBytes) {
      // A header block we do not read would leave the zlib contexts out of step, so an
      // oversized control frame ends the session (docs/spdy-protocol.md §9, FRAME_TOO_LARGE "must also close").
      this.fail(
        new SpdySessionError(
          'SPRY_ERR_SPDY_FRAME_TOO_LARGE',
          `control frame type ${this.controlType} of ${this.length} bytes exceeds the ${this.maxControlFrameBytes}-byte limit`,
        ),
      );
      return;
    }
    if (this.length === 0) {
      this.state = Step.HEADER;
      this.finishControlFrame(EMPTY, 0, 0);
    } else {
      this.state = Step.CONTROL_PAYLOAD;
    }
  }

  private startDataFrame(streamId: number): void {
    if (streamId === 0) {
      this.fail(new SpdySessionError('SPRY_ERR_SPDY_BAD_STREAM_ID', 'DATA frame on stream 0'));
      return;
    }
    this.dataStreamId = streamId;
    if (this.length === 0) {
      this.state = Step.HEADER;
      this.sink.onData(streamId, EMPTY, (this.flags & FLAG_FIN) !== 0);
      return;
    }
    this.remaining = this.length;
    this.state = Step.DATA_PAYLOAD;
  }

  private skip(length: number): void {
    this.remaining = length;
    this.state = length === 0 ? Step.HEADER : Step.SKIP_PAYLOAD;
  }

  private fail(error: SpdySessionError): void {
    this.state = Step.FAILED;
    this.payload = null;
    this.sink.onProtocolError(error);
  }

  /** Length rules per type (docs/spdy-protocol.md §17.4); returns a message when the length is impossible. */
  private checkControlLength(type: number, length: number): string | undefined {
    const v = this.version;
    switch (type) {
      case FrameType.SYN_STREAM:
        return length < 10 ? `SYN_STREAM of ${length} bytes (at least 10)` : undefined;
      case FrameType.SYN_REPLY:
      case FrameType.HEADERS:
        return length < 4 + v.replyPaddingBytes
          ? `${type === FrameType.HEADERS ? 'HEADERS' : 'SYN_REPLY'} of ${length} bytes (at least ${4 + v.replyPaddingBytes})`
          : undefined;
      case FrameType.RST_STREAM:
        return length !== 8 ? `RST_STREAM of ${length} bytes (exactly 8)` : undefined;
      case FrameType.SETTINGS:
        return length < 4 || (length - 4) % 8 !== 0 ? `SETTINGS of ${length} bytes (4 + 8n)` : undefined;
      case FrameType.PING:
        return length !== 4 ? `PING of ${length} bytes (exactly 4)` : undefined;
      case FrameType.GOAWAY:
        // Strict on send, lenient on receive: v2 peers such as node-spdy send 8 bytes (docs/spdy-protocol.md §18).
        return length !== 4 && length !== 8 ? `GOAWAY of ${length} bytes (4 or 8)` : undefined;
      case FrameType.WINDOW_UPDATE:
        return length !== 8 ? `WINDOW_UPDATE of ${length} bytes (exactly 8)` : undefined;
      case FrameType.NOOP:
        return v.wire === 2 && length !== 0 ? `NOOP of ${length} bytes (exactly 0)` : undefined;
      case FrameType.CREDENTIAL:
        return length < 6 ? `CREDENTIAL of ${length} bytes (at least 6)` : undefined;
      default:
        return undefined;
    }
  }

  /** The control payload is `p` from `at` to `end`. */
  private finishControlFrame(p: Buffer, at: number, end: number): void {
    const type = this.controlType;
    if (this.controlVersion !== this.version.wire) {
      // v2's rule, the safest everywhere (docs/spdy-protocol.md §17.6): refuse a SYN_STREAM of another version without
      // inflating its block, ignore other frames. A peer that goes on will fail to inflate later.
      if (type === FrameType.SYN_STREAM) {
        const streamId = p.readUInt32BE(at) & STREAM_ID_MASK;
        this.streamError(streamId, RstStatus.UNSUPPORTED_VERSION, 'SPRY_ERR_SPDY_BAD_VERSION', `SYN_STREAM with version ${this.controlVersion}`);
      }
      return;
    }
    const frame = this.parseControl(type, p, at, end);
    if (frame !== undefined) this.sink.onControlFrame(frame);
  }

  private parseControl(type: number, p: Buffer, at: number, end: number): ControlFrame | undefined {
    const flags = this.flags;
    const v = this.version;
    switch (type) {
      case FrameType.SYN_STREAM: {
        const streamId = p.readUInt32BE(at) & STREAM_ID_MASK;
        if (streamId === 0) return this.sessionError('SPRY_ERR_SPDY_BAD_STREAM_ID', 'SYN_STREAM on stream 0');
        const frame = this.synStream;
        frame.streamId = streamId;
        frame.associatedStreamId = p.readUInt32BE(at + 4) & STREAM_ID_MASK;
        frame.priority = p[at + 8] >> v.priorityShift;
        frame.slot = v.wire === 2 ? 0 : p[at + 9];
        frame.fin = (flags & FLAG_FIN) !== 0;
        frame.unidirectional = (flags & FLAG_UNIDIRECTIONAL) !== 0;
        frame.headerBlock = blockView(p, at + 10, end);
        return frame;
      }
      case FrameType.SYN_REPLY:
      case FrameType.HEADERS: {
        const streamId = p.readUInt32BE(at) & STREAM_ID_MASK;
        if (streamId === 0) return this.sessionError('SPRY_ERR_SPDY_BAD_STREAM_ID', `${type === FrameType.HEADERS ? 'HEADERS' : 'SYN_REPLY'} on stream 0`);
        return { type, streamId, fin: (flags & FLAG_FIN) !== 0, headerBlock: blockView(p, at + 4 + v.replyPaddingBytes, end) };
      }
      case FrameType.RST_STREAM: {
        const streamId = p.readUInt32BE(at) & STREAM_ID_MASK;
        const status = p.readUInt32BE(at + 4);
        // An invalid RST_STREAM cannot be answered with RST_STREAM (docs/spdy-protocol.md §8), so it ends the session.
        if (flags !== 0) return this.sessionError('SPRY_ERR_SPDY_BAD_STATUS', `RST_STREAM with flags 0x${flags.toString(16)}`);
        if (streamId === 0) return this.sessionError('SPRY_ERR_SPDY_BAD_STREAM_ID', 'RST_STREAM on stream 0');
        if (status === 0) return this.sessionError('SPRY_ERR_SPDY_BAD_STATUS', `RST_STREAM with status 0 on stream ${streamId}`);
        const frame = this.rstStream;
        frame.streamId = streamId;
        frame.status = status;
        return frame;
      }
      case FrameType.SETTINGS: {
        const count = p.readUInt32BE(at);
        if (count !== (end - at - 4) / 8) {
          return this.sessionError('SPRY_ERR_SPDY_BAD_SETTINGS', `SETTINGS says ${count} entries in ${end - at} bytes`);
        }
        const entries: SettingsEntry[] = [];
        for (let i = 0, o = at + 4; i < count; i++, o += 8) {
          const id = v.settingsIdLittleEndian ? p[o] | (p[o + 1] << 8) | (p[o + 2] << 16) : (p[o + 1] << 16) | (p[o + 2] << 8) | p[o + 3];
          const entryFlags = v.settingsIdLittleEndian ? p[o + 3] : p[o];
          entries.push({ id, flags: entryFlags, value: p.readUInt32BE(o + 4) });
        }
        return { type, clearSettings: (flags & FLAG_SETTINGS_CLEAR_SETTINGS) !== 0, entries };
      }
      case FrameType.NOOP:
        return { type };
      case FrameType.PING:
        return { type, id: p.readUInt32BE(at) };
      case FrameType.GOAWAY:
        return { type, lastGoodStreamId: p.readUInt32BE(at) & STREAM_ID_MASK, status: end - at >= 8 ? p.readUInt32BE(at + 4) : undefined };
      case FrameType.WINDOW_UPDATE: {
        const streamId = p.readUInt32BE(at) & STREAM_ID_MASK;
        const delta = p.readUInt32BE(at + 4) & STREAM_ID_MASK;
        if (delta === 0) {
          if (streamId === 0) return this.sessionError('SPRY_ERR_SPDY_BAD_WINDOW_DELTA', 'WINDOW_UPDATE of 0 on the session');
          this.streamError(streamId, RstStatus.PROTOCOL_ERROR, 'SPRY_ERR_SPDY_BAD_WINDOW_DELTA', `WINDOW_UPDATE of 0 on stream ${streamId}`);
          return undefined;
        }
        return { type, streamId, delta };
      }
      case FrameType.CREDENTIAL:
        return { type, slot: p.readUInt16BE(at) };
      default:
        return undefined;
    }
  }

  private sessionError(code: SpdySessionError['code'], message: string): undefined {
    this.fail(new SpdySessionError(code, message));
    return undefined;
  }

  private streamError(streamId: number, status: SpdyStreamError['status'], code: SpdyStreamError['code'], message: string): void {
    this.sink.onProtocolError(new SpdyStreamError(code, streamId, status, message));
  }
}

const EMPTY = Buffer.alloc(0);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * A header block's bytes, `p` from `start` to `end`, as a plain Uint8Array over the same memory:
 * `p.subarray()` would make a Buffer, through Buffer's JavaScript constructor (the species of
 * a Uint8Array subclass), once for every SYN_STREAM, which a flood of them pays for.
 */
function blockView(p: Buffer, start: number, end: number): Uint8Array {
  return new Uint8Array(p.buffer, p.byteOffset + start, end - start);
}

function isKnownType(type: number, version: SpdyVersion): boolean {
  if (type === FrameType.NOOP) return version.wire === 2;
  // v2 has no WINDOW_UPDATE, but node-spdy sends it on v2 sessions; we honour it (docs/spdy-protocol.md §6).
  if (type === FrameType.CREDENTIAL) return version.wire === 3;
  return type >= FrameType.SYN_STREAM && type <= FrameType.WINDOW_UPDATE;
}
