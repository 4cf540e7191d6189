// What the access log, the stats and the metrics know of one request: its RequestHead plus what
// the response did. Records are plain objects filled in as the exchange runs and handed, whole,
// to the Observer when the response ends; nothing is formatted here (log-format.ts does that,
// when the log writer takes the record).

import type { FlatHeaders, RequestHead } from '../exchange/exchange.ts';

export interface AccessRecord {
  readonly head: RequestHead;
  /** The response status (0 when the exchange ended before a response head). */
  status: number;
  /** The response headers as sent, for %(hsize); undefined when the protocol sized them itself. */
  responseHeaders: FlatHeaders | undefined;
  /** Response head bytes known from the protocol (HTTP/1.1's serialised head), or -1. */
  headerBytes: number;
  /** Response body bytes the app wrote. */
  bodyBytes: number;
  /** Request body bytes read, or -1 where only Content-Length is known. */
  requestBytes: number;
  /** performance.now() when the request reached the app. */
  readonly startedAt: number;
  /** Milliseconds from the request reaching the app to its response ending. */
  durationMs: number;
  /** The backend that served a forwarded request (its --http-to label). */
  backend: string | undefined;
  /** True when the client or the connection cut the exchange before it ended. */
  cut: boolean;
  /**
   * Set on an upgraded connection's record (observed-upgrade.ts): the protocol it switched to
   * (`websocket`). Its bodyBytes are then the bytes sent to the client after the switch, its
   * requestBytes those the client sent, and its duration the whole connection's.
   */
  readonly upgrade?: string | undefined;
  /** Set on a request spry refused with RST_STREAM before any app saw it: the code sent (`PROTOCOL_ERROR`). */
  readonly reset?: string | undefined;
}

/** The wire protocol as negotiated: h2, h2c, spdy/3.1, spdy/3, spdy/2, http/1.1, http/1.0, uwsgi. */
export function wireProtocol(head: RequestHead): string {
  if (head.upstreamVars !== undefined) return 'uwsgi';
  const protocol = head.protocol;
  switch (protocol.kind) {
    case 'spdy':
      return protocol.version === '2' ? 'spdy/2' : protocol.version === '3' ? 'spdy/3' : 'spdy/3.1';
    case 'h2':
      return head.connection.secure ? 'h2' : 'h2c';
    default:
      return protocol.kind;
  }
}

/** The stream id on SPDY and h2, 0 elsewhere. */
export function streamIdOf(head: RequestHead): number {
  const protocol = head.protocol;
  return protocol.kind === 'spdy' || protocol.kind === 'h2' ? protocol.streamId : 0;
}

/**
 * The response head's size as HTTP/1.1 would serialise it (`HTTP/1.1 200 OK\r\n`, each
 * `name: value\r\n`, the blank line): what %(hsize) means in uWSGI, comparable across protocols
 * whose real head is compressed (HPACK, SPDY's zlib).
 */
export function headerBytesOf(record: AccessRecord, reason: string): number {
  if (record.headerBytes >= 0) return record.headerBytes;
  const headers = record.responseHeaders;
  if (headers === undefined) return 0;
  // "HTTP/1.1 200 " (13), the reason, CRLF, each "name: value" CRLF, the blank line's CRLF.
  let bytes = 13 + reason.length + 2 + 2;
  for (let i = 0; i < headers.length; i += 2) bytes += headers[i].length + headers[i + 1].length + 4;
  return bytes;
}

/** `GET /a?b (h2 stream 3)`: the request a failure belongs to, for spry's own log lines. */
export function describeRequest(head: RequestHead): string {
  const stream = streamIdOf(head);
  return `${head.method} ${head.target} (${wireProtocol(head)}${stream === 0 ? '' : ` stream ${stream}`} from ${head.connection.remoteAddress})`;
}
