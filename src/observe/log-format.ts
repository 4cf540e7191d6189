// Access lines from AccessRecords: spry's default line, uWSGI's --log-format with `%(var)`
// placeholders (same meanings as uWSGI 2.0's LogFormat docs, see ../shared/SPEC.md's "uWSGI
// options for the production edge"), and JSON lines. A format is compiled once into a list of
// parts; the log writer builds each line when its response ends (log-writer.ts says why). The
// default line, the one most servers write, is also written straight into the writer's chunk
// (line-bytes.ts): the same bytes, without the string.

import { STATUS_CODES } from 'node:http';
import { ConfigError } from '../errors.ts';
import { headerValue } from '../exchange/flat-headers.ts';
import { headerBytesOf, streamIdOf, wireProtocol, type AccessRecord } from './access-record.ts';
import { LineBytes } from './line-bytes.ts';
import { oneLine } from './one-line.ts';

export interface LineFormat {
  /** The record's line, without its newline. */
  line(record: AccessRecord): string;
  /**
   * Writes the bytes of line(record) into buffer[at, limit): where they end, or -1 when they
   * do not fit (undefined: the writer encodes line()).
   */
  readonly encodeInto: ((record: AccessRecord, buffer: Buffer, at: number, limit: number) => number) | undefined;
}

/** What a line needs that the record does not carry: this process's facts and the options. */
export interface LineContext {
  readonly pid: number;
  /** The worker's id, 1…N (1 without a master), as uWSGI's %(wid). */
  readonly wid: number;
  /** --log-x-forwarded-for: %(addr) is the request's X-Forwarded-For client, when it has one. */
  readonly xForwardedFor: boolean;
}

type Variable = (record: AccessRecord, context: LineContext) => string | number;

const VARIABLES: Readonly<Record<string, Variable>> = {
  addr: (r, c) => clientAddress(r, c),
  method: (r) => r.head.method,
  uri: (r) => r.head.target,
  proto: (r) => serverProtocol(r),
  status: (r) => r.status,
  size: (r) => r.bodyBytes + hsize(r),
  rsize: (r) => r.bodyBytes,
  hsize: (r) => hsize(r),
  cl: (r) => contentLength(r),
  msecs: (r) => Math.round(r.durationMs),
  micros: (r) => Math.round(r.durationMs * 1000),
  secs: (r) => (r.durationMs / 1000).toFixed(6),
  time: (r) => Math.floor(wallClock(r) / 1000),
  ltime: (r) => apacheTimeAt(wallClock(r)),
  host: (r) => r.head.authority,
  referer: (r) => headerValue(r.head.headers, 'referer') ?? '',
  uagent: (r) => headerValue(r.head.headers, 'user-agent') ?? '',
  pid: (_r, c) => c.pid,
  wid: (_r, c) => c.wid,
  protocol: (r) => wireProtocol(r.head),
  stream: (r) => streamIdOf(r.head),
  backend: (r) => r.backend ?? '-',
  upgrade: (r) => r.upgrade ?? '-',
};

export const FORMAT_VARIABLES: readonly string[] = Object.keys(VARIABLES);

/**
 * The line format for `--log-format` (undefined: spry's default line; `json`: one JSON object
 * per line). Unknown variables are refused, with the list of known ones.
 */
export function compileFormat(format: string | undefined, context: LineContext, option = '--log-format'): LineFormat {
  if (format === undefined) {
    const bytes = new LineBytes();
    return { line: (record) => defaultLine(record, context), encodeInto: (record, buffer, at, limit) => encodeDefaultLine(record, context, bytes, buffer, at, limit) };
  }
  if (format === 'json') return { line: (record) => jsonLine(record, context), encodeInto: undefined };
  const parts: (string | Variable)[] = [];
  const placeholder = /%\(([^)]*)\)/g;
  let last = 0;
  for (let match = placeholder.exec(format); match !== null; match = placeholder.exec(format)) {
    const variable = VARIABLES[match[1]];
    if (variable === undefined) throw new ConfigError(option, `"${format}": unknown variable %(${match[1]}) (known: ${FORMAT_VARIABLES.join(' ')})`);
    if (match.index > last) parts.push(format.slice(last, match.index));
    parts.push(variable);
    last = match.index + match[0].length;
  }
  if (last < format.length) parts.push(format.slice(last));
  return {
    line(record) {
      let line = '';
      for (const part of parts) line += typeof part === 'string' ? part : oneLine(String(part(record, context)));
      return line;
    },
    encodeInto: undefined,
  };
}

/**
 * `127.0.0.1 [04/Oct/2025:10:33:11 +0000] GET /a?b h2 stream 1 => 200, 5 bytes in 0.412 ms (worker 1)`,
 * and ` via BACKEND` for forwarded requests, ` (cut)` when the client or connection cut it. An
 * upgraded connection says what it became and the bytes each way, and a stream spry reset
 * itself says so, ` (reset PROTOCOL_ERROR)`:
 * `… GET /chat http/1.1 => 101 websocket, 120 bytes out, 64 in, 5012.345 ms (worker 1)`.
 */
function defaultLine(r: AccessRecord, c: LineContext): string {
  const stream = streamIdOf(r.head);
  const outcome = r.upgrade === undefined ? `${r.status}, ${r.bodyBytes} bytes in` : `${r.status} ${oneLine(r.upgrade)}, ${r.bodyBytes} bytes out, ${r.requestBytes} in,`;
  return `${clientAddress(r, c)} [${apacheTimeAt(wallClock(r))}] ${oneLine(r.head.method)} ${oneLine(r.head.target)} ${wireProtocol(r.head)}${stream === 0 ? '' : ` stream ${stream}`} => ${outcome} ${r.durationMs.toFixed(3)} ms (worker ${c.wid})${r.backend === undefined ? '' : ` via ${r.backend}`}${r.cut ? ' (cut)' : ''}${r.reset === undefined ? '' : ` (reset ${r.reset})`}`;
}

/** defaultLine()'s bytes, written by `out` into buffer[at, limit): their end, or -1. */
function encodeDefaultLine(r: AccessRecord, c: LineContext, out: LineBytes, buffer: Buffer, at: number, limit: number): number {
  out.start(buffer, at, limit);
  out.raw(clientAddress(r, c));
  out.ascii(' [');
  out.ascii(apacheTimeAt(wallClock(r)));
  out.ascii('] ');
  out.escaped(r.head.method);
  out.ascii(' ');
  out.escaped(r.head.target);
  out.ascii(' ');
  out.ascii(wireProtocol(r.head));
  const stream = streamIdOf(r.head);
  if (stream !== 0) {
    out.ascii(' stream ');
    out.number(stream);
  }
  out.ascii(' => ');
  out.number(r.status);
  if (r.upgrade === undefined) {
    out.ascii(', ');
    out.number(r.bodyBytes);
    out.ascii(' bytes in ');
  } else {
    out.ascii(' ');
    out.escaped(r.upgrade);
    out.ascii(', ');
    out.number(r.bodyBytes);
    out.ascii(' bytes out, ');
    out.number(r.requestBytes);
    out.ascii(' in, ');
  }
  out.fixed3(r.durationMs);
  out.ascii(' ms (worker ');
  out.number(c.wid);
  out.ascii(')');
  if (r.backend !== undefined) {
    out.ascii(' via ');
    out.raw(r.backend);
  }
  if (r.cut) out.ascii(' (cut)');
  if (r.reset !== undefined) {
    out.ascii(' (reset ');
    out.raw(r.reset);
    out.ascii(')');
  }
  return out.end();
}

/** Every value escaped by JSON.stringify: quotes, backslashes, control bytes; lone surrogates as \u escapes. */
function jsonLine(r: AccessRecord, c: LineContext): string {
  return JSON.stringify({
    time: new Date(wallClock(r)).toISOString(),
    addr: clientAddress(r, c),
    method: r.head.method,
    uri: r.head.target,
    proto: serverProtocol(r),
    protocol: wireProtocol(r.head),
    stream: streamIdOf(r.head),
    status: r.status,
    size: r.bodyBytes + hsize(r),
    rsize: r.bodyBytes,
    hsize: hsize(r),
    cl: contentLength(r),
    msecs: Math.round(r.durationMs * 1000) / 1000,
    host: r.head.authority,
    referer: headerValue(r.head.headers, 'referer') ?? '',
    uagent: headerValue(r.head.headers, 'user-agent') ?? '',
    pid: c.pid,
    wid: c.wid,
    backend: r.backend ?? null,
    upgrade: r.upgrade ?? null,
    cut: r.cut,
    reset: r.reset ?? null,
  });
}

/** Read once: performance.timeOrigin is a getter that calls into Node's C++ each time (~0.1 µs). */
const TIME_ORIGIN = performance.timeOrigin;

function wallClock(r: AccessRecord): number {
  return TIME_ORIGIN + r.startedAt;
}

function clientAddress(r: AccessRecord, c: LineContext): string {
  if (c.xForwardedFor) {
    const forwarded = headerValue(r.head.headers, 'x-forwarded-for');
    if (forwarded !== undefined && forwarded !== '') return oneLine(forwarded.split(',')[0].trim());
  }
  return r.head.upstreamVars?.REMOTE_ADDR ?? r.head.connection.remoteAddress;
}

function serverProtocol(r: AccessRecord): string {
  return r.head.upstreamVars?.SERVER_PROTOCOL ?? (r.head.protocol.kind === 'h2' ? 'HTTP/2.0' : `HTTP/${r.head.httpVersion}`);
}

function hsize(r: AccessRecord): number {
  return headerBytesOf(r, STATUS_CODES[r.status] ?? '');
}

/** The request body's declared length; for an upgraded connection, the bytes the client sent after its head. */
function contentLength(r: AccessRecord): number {
  if (r.upgrade !== undefined) return r.requestBytes;
  const declared = r.head.upstreamVars?.CONTENT_LENGTH ?? headerValue(r.head.headers, 'content-length');
  const value = declared === undefined ? NaN : Number(declared);
  return Number.isSafeInteger(value) ? value : 0;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

let cachedSecond = NaN;
let cachedTime = '';

/**
 * apacheTime() of a wall-clock millisecond, formatted once per second: every line of a busy
 * second shares it (local time and its offset are dear to compute, and change only at a second).
 */
function apacheTimeAt(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedTime = apacheTime(new Date(second * 1000));
  }
  return cachedTime;
}

/** `04/Oct/2025:10:33:11 +0200`, local time, as Apache's %t (without its brackets). */
export function apacheTime(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${two(date.getDate())}/${MONTHS[date.getMonth()]}/${date.getFullYear()}:${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())} ${sign}${two(Math.floor(abs / 60))}${two(abs % 60)}`;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
