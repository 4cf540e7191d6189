// One error base class for spry, and the list of its codes.
//
// Three kinds of failure stay apart:
//  - protocol violations by a peer: they carry the wire status the session must send
//    (a SPDY RST_STREAM or GOAWAY status), see SpdyProtocolError;
//  - operational failures (a dead or slow backend): mapped to an HTTP status in one table;
//  - configuration errors: one line on stderr at startup, exit status 2, see ConfigError.

export const ErrorCodes = {
  // Configuration and command line.
  SPRY_ERR_CONFIG: 'an option, keyval or file given at startup is invalid',
  // SPDY framing, found by the frame decoder.
  SPRY_ERR_SPDY_BAD_FRAME_LENGTH: 'a control frame has a length its type does not allow',
  SPRY_ERR_SPDY_FRAME_TOO_LARGE: 'a frame is larger than this server accepts',
  SPRY_ERR_SPDY_BAD_VERSION: 'a control frame carries a SPDY version other than the session\'s',
  SPRY_ERR_SPDY_BAD_STREAM_ID: 'a frame names stream 0 or a stream id its type forbids',
  SPRY_ERR_SPDY_BAD_STATUS: 'an RST_STREAM carries status 0 or an unknown status, or bad flags',
  SPRY_ERR_SPDY_BAD_SETTINGS: 'a SETTINGS frame\'s entry count disagrees with its length',
  SPRY_ERR_SPDY_BAD_WINDOW_DELTA: 'a WINDOW_UPDATE carries a delta of 0',
  // SPDY header blocks.
  SPRY_ERR_SPDY_COMPRESSION: 'a header block does not inflate with the session\'s zlib context',
  SPRY_ERR_SPDY_HEADERS_TOO_LARGE: 'an inflated header block is larger than this server accepts',
  SPRY_ERR_SPDY_BAD_HEADER_BLOCK: 'a header block is malformed (lengths, names, NULs, duplicates)',
  SPRY_ERR_SPDY_TOO_MANY_HEADERS: 'a header block has more pairs than this server accepts',
  SPRY_ERR_SPDY_CONTENT_LENGTH: 'a request\'s content-length is not a length, or its DATA does not add up to it',
  // SPDY session and stream state.
  SPRY_ERR_SPDY_STREAM_STATE: 'a frame is not allowed in its stream\'s state',
  SPRY_ERR_SPDY_FLOW_CONTROL: 'a peer overflowed a flow-control window',
  SPRY_ERR_SPDY_STREAM_RESET: 'the peer reset the stream',
  SPRY_ERR_SPDY_SESSION_CLOSED: 'the session closed before the stream finished',
  // Peers that make spry work or queue for nothing (each ends the session with GOAWAY).
  SPRY_ERR_SPDY_PEER_NOT_READING: 'more control frames are owed to a peer that does not read than the session allows (max-owed-control)',
  SPRY_ERR_SPDY_RAPID_RESET: 'the peer reset more streams before their response than its budget allows (max-peer-resets per abuse-window)',
  SPRY_ERR_SPDY_INVALID_FRAMES: 'the peer sent more frames for streams that are gone than its budget allows (max-invalid-frames per abuse-window)',
  SPRY_ERR_SPDY_STREAM_ERRORS: 'the peer caused more stream errors than its budget allows (max-stream-errors per abuse-window)',
  SPRY_ERR_SPDY_STREAM_STALLED: 'a stream could not send for longer than --http-timeout (the peer\'s window stayed at 0, or it read nothing), or its session buffered more than session-buffer bytes',
  // Request heads, on every protocol (docs/request-heads.md): HTTP/1.1 and uwsgi answer 400,
  // SPDY and h2 RST_STREAM PROTOCOL_ERROR, before the app sees the request.
  SPRY_ERR_BAD_METHOD: 'a request\'s method is not a token',
  SPRY_ERR_BAD_TARGET: 'a request target is not origin-form (or * for OPTIONS)',
  SPRY_ERR_BAD_AUTHORITY: 'a request\'s host or :authority is not a host with an optional port',
  SPRY_ERR_BAD_HEADER_NAME: 'a request header name is not a token (lower case on SPDY and h2)',
  SPRY_ERR_BAD_HEADER_VALUE: 'a request header value holds CR, LF or NUL',
  SPRY_ERR_SPDY_MISSING_HEADER: 'a SPDY request\'s header block lacks its method, path, version or host (400 on that stream)',
  // The uwsgi protocol and backends.
  SPRY_ERR_UWSGI_VARS_TOO_LARGE: 'a request\'s variables do not fit the uwsgi packet\'s 16-bit size',
  SPRY_ERR_UWSGI_BAD_PACKET: 'a uwsgi packet is malformed',
  SPRY_ERR_UWSGI_BAD_VAR: 'a uwsgi request\'s CONTENT_LENGTH is not digits, or its REMOTE_ADDR holds CR, LF or NUL (400)',
  SPRY_ERR_BACKEND_UNREACHABLE: 'no backend accepted the connection (502)',
  SPRY_ERR_BACKEND_TIMEOUT: 'the backend did not answer within --http-timeout (504)',
  SPRY_ERR_BACKEND_BAD_RESPONSE: 'the backend\'s response is not valid HTTP (502)',
  SPRY_ERR_BACKEND_CLOSED: 'the backend closed the connection before the response ended',
  SPRY_ERR_BACKEND_BODY_LENGTH: 'a request body forwarded to an HTTP backend did not add up to its content-length, or that was not a length: the connection is closed, never reused (502)',
  // Apps.
  SPRY_ERR_BODY_TOO_LARGE: 'a request body is larger than --limit-post (413, or a reset once the body is under way)',
  SPRY_ERR_HARAKIRI: 'a request was not answered within --harakiri (504, or a reset once the response had started)',
  SPRY_ERR_APP_LOAD: 'the --module could not be loaded or has no usable export',
  // The private parts of Node.js and pako that spry relies on (src/internals/), checked at load.
  SPRY_ERR_INTERNALS_MISSING: 'this Node.js or pako lacks a private part spry relies on (spry must be updated for it)',
  // The --cache2 caches.
  SPRY_ERR_CACHE: 'a cache write broke a --cache2 limit (key, value size, full with purge_lru=0), or the cache is unknown or unreachable',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class SpryError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string | undefined, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = 'SpryError';
  }
}

/** A bad option, keyval or file: reported as one line, exit status 2. */
export class ConfigError extends SpryError {
  /** The option that was wrong, as the user wrote it (`--https2`, `cert=`, …). */
  readonly option: string;
  constructor(option: string, message: string) {
    super('SPRY_ERR_CONFIG', `${option}: ${message}`);
    this.option = option;
    this.name = 'ConfigError';
  }
}
