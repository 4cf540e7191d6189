// An incremental parser for the HTTP/1.x response a uwsgi worker writes back: status line,
// headers, then a body delimited by Content-Length, chunked encoding, or the connection's end.
// Limits are checked as bytes arrive; 1xx interim responses are skipped, but for a 101 when the
// request asked to switch protocols: after it, the bytes are the new protocol's.
//
// The head is forwarded to clients on every front end, so it is held to what llhttp accepts of a
// request: a header name is a token (no obs-fold, no space before the colon), a value holds no
// CR, LF, NUL or other control character (node:http refuses to send such a value and cut the
// client's connection; node:http2 and SPDY sent it on), and the status is 100-599. Transfer-Encoding overrides Content-Length (RFC 9112 §6.3),
// which is then not forwarded: a client would read the body by a length it does not have.
// Only HTTP/1.1, and HTTP/1.0 with keep-alive, leave the connection fit for another request
// (`persistent`), and only while the framing agreed with itself.

import { SpryError } from '../errors.ts';
import type { FlatHeaders } from '../exchange/exchange.ts';

export const MAX_RESPONSE_HEAD_BYTES = 64 << 10;
const MAX_HEADER_COUNT = 256;

export interface ResponseSink {
  head(status: number, headers: FlatHeaders): void;
  body(chunk: Buffer): void;
  end(): void;
  /**
   * Given for an upgrade request: a 101 ends the parse, and `rest` is the first of the new
   * protocol's bytes (the caller reads the connection itself from here on).
   */
  switched?(headers: FlatHeaders, rest: Buffer): void;
}

const SWITCHED = Symbol('switched');
/** A chunk size (up to 15 hex digits: within exact doubles) and what may follow it: whitespace, extensions. */
const CHUNK_SIZE_LINE = /^[ \t]*([0-9a-fA-F]{1,15})[ \t]*(?:;.*)?$/;
/** What `pending` holds when nothing is: one shared empty buffer, not one per chunk. */
const EMPTY = Buffer.alloc(0);
const Step = { HEAD: 0, BODY_LENGTH: 1, BODY_UNTIL_CLOSE: 2, CHUNK_SIZE: 3, CHUNK_DATA: 4, CHUNK_DATA_END: 5, TRAILERS: 6, DONE: 7 } as const;
type Step = (typeof Step)[keyof typeof Step];

export class HttpResponseParser {
  private readonly sink: ResponseSink;
  private readonly noBody: boolean;
  private step: Step = Step.HEAD;
  private pending: Buffer = EMPTY;
  private remaining = 0;
  private switchedHeaders: FlatHeaders | undefined;
  /** The response leaves the connection fit for another request (RFC 9112 §9.3): set with its head. */
  persistent = false;
  /** Bytes that came after the end of the response in the last push (a reused connection must have none). */
  excessBytes = 0;

  /** `noBody`: the request was HEAD, so whatever the headers say, no body follows. */
  constructor(sink: ResponseSink, noBody: boolean) {
    this.sink = sink;
    this.noBody = noBody;
  }

  get done(): boolean {
    return this.step === Step.DONE;
  }

  /** Feeds bytes; throws SpryError (SPRY_ERR_BACKEND_BAD_RESPONSE) on a malformed response. */
  push(chunk: Buffer): void {
    let data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = EMPTY;
    while (data.length > 0 && this.step !== Step.DONE) {
      switch (this.step) {
        case Step.HEAD:
        case Step.TRAILERS: {
          if (this.step === Step.TRAILERS && data[0] === 13) {
            // No trailers: the empty line alone ends the message (RFC 9112 §7.1), and it may
            // arrive in a later read than the last chunk's size line.
            if (data.length < 2) {
              this.pending = data;
              return;
            }
            if (data[1] === 10) {
              data = data.subarray(2);
              this.finish();
              break;
            }
          }
          const end = data.indexOf('\r\n\r\n');
          const limit = this.step === Step.HEAD ? MAX_RESPONSE_HEAD_BYTES : MAX_RESPONSE_HEAD_BYTES;
          if (end < 0) {
            if (data.length > limit) throw bad(`the response head exceeds ${limit} bytes`);
            this.pending = data;
            return;
          }
          const head = data.toString('latin1', 0, end);
          data = data.subarray(end + 4);
          if (this.step === Step.TRAILERS) this.finish();
          else if (this.readHead(head) === SWITCHED) {
            this.step = Step.DONE;
            this.sink.switched!(this.switchedHeaders!, data);
            return;
          }
          break;
        }
        case Step.BODY_LENGTH:
          data = this.passBody(data);
          if (this.remaining === 0) this.finish();
          break;
        case Step.BODY_UNTIL_CLOSE:
          this.sink.body(data);
          return;
        case Step.CHUNK_SIZE: {
          const end = data.indexOf('\r\n');
          if (end < 0) {
            if (data.length > 1024) throw bad('a chunk size line is too long');
            this.pending = data;
            return;
          }
          const line = data.toString('latin1', 0, end);
          data = data.subarray(end + 2);
          // RFC 9112 §7.1: hex digits, then only extensions: "5zz" is not 5 (whatever the rest meant).
          const digits = CHUNK_SIZE_LINE.exec(line)?.[1];
          if (digits === undefined) throw bad(`bad chunk size line ${JSON.stringify(line.slice(0, 40))}`);
          const size = Number.parseInt(digits, 16);
          if (size === 0) this.step = Step.TRAILERS;
          else {
            this.remaining = size;
            this.step = Step.CHUNK_DATA;
          }
          // "0\r\n\r\n" without trailers: the blank line ends it.
          if (this.step === Step.TRAILERS && data.length >= 2 && data[0] === 13 && data[1] === 10) {
            data = data.subarray(2);
            this.finish();
          }
          break;
        }
        case Step.CHUNK_DATA:
          data = this.passBody(data);
          if (this.remaining === 0) this.step = Step.CHUNK_DATA_END;
          break;
        case Step.CHUNK_DATA_END: {
          if (data.length < 2) {
            this.pending = data;
            return;
          }
          if (data[0] !== 13 || data[1] !== 10) throw bad('a chunk is not followed by CRLF');
          data = data.subarray(2);
          this.step = Step.CHUNK_SIZE;
          break;
        }
      }
    }
    this.excessBytes = data.length;
  }

  /** The backend closed its side: the end of a close-delimited body, or a truncated response. */
  close(): void {
    if (this.step === Step.DONE) return;
    if (this.step === Step.BODY_UNTIL_CLOSE) {
      this.finish();
      return;
    }
    throw new SpryError('SPRY_ERR_BACKEND_CLOSED', this.step === Step.HEAD ? 'the backend closed the connection before a complete response head' : 'the backend closed the connection in the middle of the body');
  }

  private readHead(text: string): typeof SWITCHED | undefined {
    const fault = forbiddenCharOf(text);
    if (fault !== undefined) throw bad(fault);
    const lines = text.split('\r\n');
    // uWSGI echoes SERVER_PROTOCOL: HTTP/2.0 for h2 requests; only the status matters here.
    const match = /^HTTP\/(\d(?:\.\d)?) (\d{3})(?: .*)?$/.exec(lines[0]) ?? /^Status: ()(\d{3})/.exec(lines[0]);
    if (match === null) throw bad(`bad status line ${JSON.stringify(lines[0].slice(0, 60))}`);
    const status = Number(match[2]);
    // Outside 100-599 a status is invalid (RFC 9110 §15), and node:http refuses to send one below
    // 100: it threw at the response's end, after the forwarder had marked it finished, and the
    // client waited forever.
    if (status < 100 || status > 599) throw bad(`status ${match[2]} is not one HTTP defines (RFC 9110 §15)`);
    let connection = '';
    if (lines.length - 1 > MAX_HEADER_COUNT) throw bad(`more than ${MAX_HEADER_COUNT} response headers`);
    let headers: FlatHeaders = [];
    let contentLength: number | undefined;
    let chunked = false;
    let transferEncoded = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      const colon = line.indexOf(':');
      if (colon <= 0) throw bad(`bad header line ${JSON.stringify(line.slice(0, 60))}`);
      const rawName = line.slice(0, colon);
      if (!TOKEN.test(rawName)) throw bad(`header name ${JSON.stringify(rawName)} is not a token (RFC 9112 §5)`);
      const name = rawName.toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') {
        if (!/^\d+$/.test(value) || (contentLength !== undefined && contentLength !== Number(value))) throw bad(`bad Content-Length ${JSON.stringify(value)}`);
        contentLength = Number(value);
      } else if (name === 'connection') {
        connection += `,${value.toLowerCase()}`;
      } else if (name === 'transfer-encoding') {
        // The last coding listed decides, whichever line lists it.
        chunked = /(^|,)\s*chunked\s*$/i.test(value);
        transferEncoded = true;
        continue; // framing of this hop only
      }
      headers.push(name, value);
    }
    // Both framings: the length is not the body's (RFC 9112 §6.3 ¶3, where a proxy removes it),
    // and a backend that sends both is not trusted with the next request on this connection.
    const framedTwice = transferEncoded && contentLength !== undefined;
    if (framedTwice) {
      headers = withoutContentLength(headers);
      contentLength = undefined;
    }
    if (status === 101 && this.sink.switched !== undefined) {
      this.switchedHeaders = headers;
      return SWITCHED;
    }
    if (status >= 100 && status < 200) return; // interim; the real head follows
    // HTTP/1.1 persists unless it says close; HTTP/1.0 only when it says keep-alive; nothing
    // else does (a uwsgi worker's Status: line or HTTP/2.0), nor a body delimited by the close
    // (set below), nor a response framed twice.
    const tokens = connection === '' ? [] : connection.split(',').map((token) => token.trim());
    const version = match[1];
    this.persistent = !framedTwice && (version === '1.1' ? !tokens.includes('close') : version === '1.0' && tokens.includes('keep-alive'));
    this.sink.head(status, headers);
    if (this.noBody || status === 204 || status === 304) this.finish();
    else if (chunked) this.step = Step.CHUNK_SIZE;
    else if (contentLength !== undefined) {
      this.remaining = contentLength;
      if (contentLength === 0) this.finish();
      else this.step = Step.BODY_LENGTH;
    } else {
      this.persistent = false;
      this.step = Step.BODY_UNTIL_CLOSE;
    }
  }

  /** Passes on as much of `data` as the body (or chunk) has left to come; returns the rest. */
  private passBody(data: Buffer): Buffer {
    const take = Math.min(this.remaining, data.length);
    this.remaining -= take;
    this.sink.body(data.subarray(0, take));
    return data.subarray(take);
  }

  private finish(): void {
    this.step = Step.DONE;
    this.sink.end();
  }
}

/** A header name as llhttp reads one (RFC 9112 §5.1): a token, so no obs-fold and no space before the colon. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * What is wrong with a head that holds NUL, a CR or LF other than a line's CRLF, or another
 * control character but HTAB (or DEL), or undefined (RFC 9110 §5.5): node:http refuses to send
 * such a value (ERR_INVALID_CHAR, the client's connection cut), node:http2 and SPDY would pass
 * it on. One scan of the whole head, a character at a time (a regular expression with a
 * character class for the controls scanned several times slower).
 */
function forbiddenCharOf(head: string): string | undefined {
  for (let i = 0; i < head.length; i++) {
    const c = head.charCodeAt(i);
    if ((c >= 0x20 && c !== 0x7f) || c === 0x09) continue;
    if (c === 0x0d && head.charCodeAt(i + 1) === 0x0a) {
      i++; // a line's end
      continue;
    }
    if (c === 0x00 || c === 0x0d || c === 0x0a) {
      const line = head.slice(head.lastIndexOf('\r\n', i) + 2, i);
      return `a header line holds ${c === 0x00 ? 'NUL' : c === 0x0d ? 'a bare CR' : 'a bare LF'} after ${JSON.stringify(line.slice(0, 60))} (RFC 9110 §5.5)`;
    }
    return `the response head holds the control character 0x${c.toString(16).padStart(2, '0')} (RFC 9110 §5.5)`;
  }
  return undefined;
}

function withoutContentLength(headers: FlatHeaders): FlatHeaders {
  const kept: FlatHeaders = [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i] !== 'content-length') kept.push(headers[i], headers[i + 1]);
  return kept;
}

function bad(message: string): SpryError {
  return new SpryError('SPRY_ERR_BACKEND_BAD_RESPONSE', message);
}
