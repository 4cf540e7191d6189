// The response head of a ServerResponse on a multiplexed stream, taken from node:http without
// serialising it. ServerResponse calls `_storeHeader(statusLine, headers)` once, when the head is
// decided (writeHead, or the first write/end); the stream's own `_storeHeader` (see
// node-listener.ts) turns what it is given into FlatHeaders here, with the headers node:http
// would have added that still mean something on a stream: Date, and Content-Length for a body
// given whole to end(). Connection, Keep-Alive and chunked framing are HTTP/1.1's own and are
// never produced.

import { validateHeaderName, validateHeaderValue, type OutgoingHttpHeader, type ServerResponse } from 'node:http';
import type { FlatHeaders } from '../exchange/exchange.ts';
import { kOutHeaders, type OutgoingPrivates } from '../internals/node-internals.ts';

/**
 * The headers of `res` as FlatHeaders (lower-case names), given the `headers` node:http passed to
 * _storeHeader: its own header store (already validated by setHeader), or writeHead()'s object
 * or array as the app passed it (validated here, as node:http would).
 */
export function responseHeaders(res: ServerResponse, headers: unknown): FlatHeaders {
  const out: FlatHeaders = [];
  const seen = { contentLength: false, transferEncoding: false, date: false };
  if (headers !== null && headers !== undefined) {
    if (headers === (res as unknown as Record<symbol, unknown>)[kOutHeaders]) {
      const store = headers as Record<string, [string, OutgoingHttpHeader]>;
      for (const key in store) add(out, seen, key, store[key][1], false);
    } else if (Array.isArray(headers)) {
      if (headers.length > 0 && Array.isArray(headers[0])) {
        for (const entry of headers as [string, OutgoingHttpHeader][]) add(out, seen, entry[0], entry[1], true);
      } else {
        if (headers.length % 2 !== 0) throw Object.assign(new TypeError('The argument \'headers\' must have an even number of entries'), { code: 'ERR_INVALID_ARG_VALUE' });
        for (let i = 0; i < headers.length; i += 2) add(out, seen, headers[i] as string, headers[i + 1] as OutgoingHttpHeader, true);
      }
    } else {
      const object = headers as Record<string, OutgoingHttpHeader>;
      for (const key in object) if (Object.hasOwn(object, key)) add(out, seen, key, object[key], true);
    }
  }
  const state = res as unknown as OutgoingPrivates;
  if (state.sendDate && !seen.date) out.push('date', httpDate());
  if (!seen.contentLength && !seen.transferEncoding && state._hasBody && !state._removedContLen && typeof state._contentLength === 'number') {
    out.push('content-length', String(state._contentLength));
  }
  return out;
}

function add(out: FlatHeaders, seen: { contentLength: boolean; transferEncoding: boolean; date: boolean }, name: string, value: OutgoingHttpHeader, validate: boolean): void {
  if (validate) validateHeaderName(name);
  const lower = name.toLowerCase();
  if (lower === 'trailer') {
    // As node:http says when a Trailer header comes without chunked framing: a stream has no
    // trailers here.
    throw Object.assign(new Error('Trailers are invalid with this transfer encoding'), { code: 'ERR_HTTP_TRAILER_INVALID' });
  }
  if (lower === 'content-length') seen.contentLength = true;
  else if (lower === 'transfer-encoding') seen.transferEncoding = true;
  else if (lower === 'date') seen.date = true;
  if (Array.isArray(value)) {
    // node:http joins repeated Cookie values with '; ' and sends any other repeated header as
    // repeated lines.
    if (value.length >= 2 && lower === 'cookie') {
      if (validate) for (const one of value) validateHeaderValue(name, one as string);
      out.push(lower, value.join('; '));
      return;
    }
    for (const one of value) {
      if (validate) validateHeaderValue(name, one);
      out.push(lower, String(one));
    }
    return;
  }
  if (validate) validateHeaderValue(name, value as string); // node:http takes numbers too
  out.push(lower, typeof value === 'string' ? value : String(value));
}

// The Date header's text changes once a second: built once a second.
let dateSecond = -1;
let dateText = '';

export function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}
