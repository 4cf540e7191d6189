// Wire constants of SPDY/2, /3 and /3.1, spelled as the drafts spell them.
// See docs/spdy-protocol.md §2, §7, §9.

export const FRAME_HEADER_BYTES = 8;

/** Control frame types (16 bits after the version). */
export const FrameType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  NOOP: 5,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
  CREDENTIAL: 10,
} as const;
export type ControlFrameType = (typeof FrameType)[keyof typeof FrameType];

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;
export const FLAG_SETTINGS_CLEAR_SETTINGS = 0x01;
export const FLAG_SETTINGS_PERSIST_VALUE = 0x01;
export const FLAG_SETTINGS_PERSISTED = 0x02;

/** RST_STREAM status codes (docs/spdy-protocol.md §9). 0 is invalid in every version. */
export const RstStatus = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  UNSUPPORTED_VERSION: 4,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
  FLOW_CONTROL_ERROR: 7,
  STREAM_IN_USE: 8,
  STREAM_ALREADY_CLOSED: 9,
  INVALID_CREDENTIALS: 10,
  FRAME_TOO_LARGE: 11,
} as const;
export type RstStatusCode = (typeof RstStatus)[keyof typeof RstStatus];

/** GOAWAY status codes (v3/3.1; v2 GOAWAY has no status field). */
export const GoawayStatus = {
  OK: 0,
  PROTOCOL_ERROR: 1,
  INTERNAL_ERROR: 2,
} as const;
export type GoawayStatusCode = (typeof GoawayStatus)[keyof typeof GoawayStatus];

/** SETTINGS ids (docs/spdy-protocol.md §7). */
export const SettingsId = {
  UPLOAD_BANDWIDTH: 1,
  DOWNLOAD_BANDWIDTH: 2,
  ROUND_TRIP_TIME: 3,
  MAX_CONCURRENT_STREAMS: 4,
  CURRENT_CWND: 5,
  DOWNLOAD_RETRANS_RATE: 6,
  INITIAL_WINDOW_SIZE: 7,
  CLIENT_CERTIFICATE_VECTOR_SIZE: 8,
} as const;

/** Every stream and the 3.1 session start with this window (docs/spdy-protocol.md §6). */
export const DEFAULT_WINDOW_BYTES = 65_536;
/** A window may never exceed 2^31 - 1 (docs/spdy-protocol.md §6). */
export const MAX_WINDOW_BYTES = 0x7fff_ffff;
export const MAX_STREAM_ID = 0x7fff_ffff;
/** The length field is 24 bits. */
export const MAX_FRAME_PAYLOAD_BYTES = 0xff_ffff;

export function rstStatusName(status: number): string {
  for (const [name, code] of Object.entries(RstStatus)) if (code === status) return name;
  return `status ${status}`;
}
