// The per-version facts of SPDY/2, /3 and /3.1: everything that differs between versions lives
// in this one table, so the codec and the session never branch on a version number.
// Sources: docs/spdy-protocol.md §3, §5, §6, §13.

import { readFileSync } from 'node:fs';

export type SpdyAlpn = 'spdy/3.1' | 'spdy/3' | 'spdy/2';

/** How a version treats flow control. */
export type FlowControlMode =
  /** SPDY/2 has none; but node-spdy applies v3 windows in v2 and says so with SETTINGS id 7,
   * so we honour a window only once the peer has announced one (docs/spdy-protocol.md §6). */
  | 'opt-in'
  /** SPDY/3: per-stream windows. */
  | 'stream'
  /** SPDY/3.1: per-stream windows plus a session window (WINDOW_UPDATE on stream 0). */
  | 'stream-and-session';

/** The names of the reserved headers (v2: `method`, v3: `:method`, …). */
export interface ReservedHeaderNames {
  readonly method: string;
  readonly path: string;
  readonly version: string;
  readonly host: string;
  readonly scheme: string;
  readonly status: string;
}

export interface SpdyVersion {
  readonly alpn: SpdyAlpn;
  /** What the version field of every control frame says (3.1 says 3). */
  readonly wire: 2 | 3;
  /** What the app sees as `SPDY.version`. */
  readonly label: '2' | '3' | '3.1';
  /** The zlib dictionary both directions' header compression is primed with. */
  readonly dictionary: Uint8Array;
  /** Width of the pair count and of each name/value length in a header block. */
  readonly nvLengthBytes: 2 | 4;
  /** Whether an empty header value is allowed (v2: no). */
  readonly allowsEmptyValue: boolean;
  /** Priority is the top bits of byte 8 of SYN_STREAM: `byte >> priorityShift`. */
  readonly priorityShift: 6 | 5;
  /** Unused bytes between stream id and header block in SYN_REPLY and HEADERS (v2: 2). */
  readonly replyPaddingBytes: 0 | 2;
  /** GOAWAY payload length we send (v2: 4, no status). We accept 4 or 8 in every version. */
  readonly goawayBytes: 4 | 8;
  /** v2 writes each SETTINGS entry as a little-endian uint32 of `flags << 24 | id`. */
  readonly settingsIdLittleEndian: boolean;
  readonly flowControl: FlowControlMode;
  /** Highest RST_STREAM status defined (v2: 7). */
  readonly maxRstStatus: number;
  /** The RST_STREAM status for a second SYN_REPLY on a stream (v2 has no STREAM_IN_USE). */
  readonly secondReplyStatus: 1 | 8;
  /** Whether the version has NOOP (v2) — ignored everywhere anyway. */
  readonly headers: ReservedHeaderNames;
  /** v2 carries the request target as one `url` header; v3 splits it into :scheme/:host/:path. */
  readonly urlIsAbsolute: boolean;
}

function loadDictionary(file: string): Uint8Array {
  return readFileSync(new URL(file, import.meta.url));
}

const V2_DICTIONARY = loadDictionary('./spdy2.dict');
const V3_DICTIONARY = loadDictionary('./spdy3.dict');

const V2_HEADERS: ReservedHeaderNames = {
  method: 'method',
  path: 'url',
  version: 'version',
  host: 'host',
  scheme: 'scheme',
  status: 'status',
};
const V3_HEADERS: ReservedHeaderNames = {
  method: ':method',
  path: ':path',
  version: ':version',
  host: ':host',
  scheme: ':scheme',
  status: ':status',
};

const SPDY2: SpdyVersion = {
  alpn: 'spdy/2',
  wire: 2,
  label: '2',
  dictionary: V2_DICTIONARY,
  nvLengthBytes: 2,
  allowsEmptyValue: false,
  priorityShift: 6,
  replyPaddingBytes: 2,
  goawayBytes: 4,
  settingsIdLittleEndian: true,
  flowControl: 'opt-in',
  maxRstStatus: 7,
  secondReplyStatus: 1, // PROTOCOL_ERROR
  headers: V2_HEADERS,
  urlIsAbsolute: true,
};

const SPDY3: SpdyVersion = {
  alpn: 'spdy/3',
  wire: 3,
  label: '3',
  dictionary: V3_DICTIONARY,
  nvLengthBytes: 4,
  allowsEmptyValue: true,
  priorityShift: 5,
  replyPaddingBytes: 0,
  goawayBytes: 8,
  settingsIdLittleEndian: false,
  flowControl: 'stream',
  maxRstStatus: 11,
  secondReplyStatus: 8, // STREAM_IN_USE
  headers: V3_HEADERS,
  urlIsAbsolute: false,
};

const SPDY31: SpdyVersion = { ...SPDY3, alpn: 'spdy/3.1', label: '3.1', flowControl: 'stream-and-session' };

export const SPDY_VERSIONS: Readonly<Record<SpdyAlpn, SpdyVersion>> = {
  'spdy/3.1': SPDY31,
  'spdy/3': SPDY3,
  'spdy/2': SPDY2,
};

/** ALPN protocol ids in the order a server prefers them. */
export const SPDY_ALPN_IDS: readonly SpdyAlpn[] = ['spdy/3.1', 'spdy/3', 'spdy/2'];

export function spdyVersionFor(alpn: string): SpdyVersion | undefined {
  return (SPDY_VERSIONS as Record<string, SpdyVersion>)[alpn];
}
