// Decoded SPDY frames, the same shape for every version. Header blocks stay compressed here:
// inflating them needs the session's zlib context, which the pure decoder does not own.

import type { FrameType } from './constants.ts';

export interface SynStreamFrame {
  readonly type: typeof FrameType.SYN_STREAM;
  readonly streamId: number;
  readonly associatedStreamId: number;
  /** 0 is the highest priority in every version (docs/spdy-protocol.md §3.1). */
  readonly priority: number;
  readonly slot: number;
  readonly fin: boolean;
  readonly unidirectional: boolean;
  /** Compressed name/value block; a view valid only during the decoder callback. */
  readonly headerBlock: Uint8Array;
}

export interface SynReplyFrame {
  readonly type: typeof FrameType.SYN_REPLY;
  readonly streamId: number;
  readonly fin: boolean;
  readonly headerBlock: Uint8Array;
}

export interface RstStreamFrame {
  readonly type: typeof FrameType.RST_STREAM;
  readonly streamId: number;
  readonly status: number;
}

export interface SettingsEntry {
  readonly id: number;
  readonly flags: number;
  readonly value: number;
}

export interface SettingsFrame {
  readonly type: typeof FrameType.SETTINGS;
  readonly clearSettings: boolean;
  readonly entries: readonly SettingsEntry[];
}

export interface NoopFrame {
  readonly type: typeof FrameType.NOOP;
}

export interface PingFrame {
  readonly type: typeof FrameType.PING;
  readonly id: number;
}

export interface GoawayFrame {
  readonly type: typeof FrameType.GOAWAY;
  readonly lastGoodStreamId: number;
  /** Absent in v2 (no status field). */
  readonly status: number | undefined;
}

export interface HeadersFrame {
  readonly type: typeof FrameType.HEADERS;
  readonly streamId: number;
  readonly fin: boolean;
  readonly headerBlock: Uint8Array;
}

export interface WindowUpdateFrame {
  readonly type: typeof FrameType.WINDOW_UPDATE;
  readonly streamId: number;
  readonly delta: number;
}

export interface CredentialFrame {
  readonly type: typeof FrameType.CREDENTIAL;
  readonly slot: number;
}

export type ControlFrame =
  | SynStreamFrame
  | SynReplyFrame
  | RstStreamFrame
  | SettingsFrame
  | NoopFrame
  | PingFrame
  | GoawayFrame
  | HeadersFrame
  | WindowUpdateFrame
  | CredentialFrame;

/** What the decoder reports, in wire order. */
export interface FrameSink {
  /** A control frame; the object is the sink's only during the call (the decoder reuses it: copy what you keep). */
  onControlFrame(frame: ControlFrame): void;
  /**
   * A piece of a DATA frame's payload (a view into the socket's chunk: copy to keep it).
   * `fin` is set on the last piece of a frame that carries FLAG_FIN; a frame with an empty
   * payload is reported once with an empty chunk.
   */
  onData(streamId: number, chunk: Uint8Array, fin: boolean): void;
  /**
   * A stream-level problem found while decoding (the frame was consumed whole and decoding goes
   * on), or a session-level one (decoding has stopped for good).
   */
  onProtocolError(error: import('./protocol-error.ts').SpdyProtocolError): void;
}
