// Turns a SYN_STREAM's decoded headers into the protocol-neutral RequestHead, and an app's
// response headers into a SYN_REPLY's. The version table names the reserved headers.

import { STATUS_CODES } from 'node:http';
import { CONNECTION_HEADERS } from '../exchange/connection-headers.ts';
import type { ConnectionInfo, FlatHeaders, RequestHead } from '../exchange/exchange.ts';
import type { SpdyVersion } from './versions.ts';


export type HeadResult = { ok: true; head: RequestHead } | { ok: false; problem: string };

/**
 * Reads method, target, version, host and scheme out of the reserved headers; everything else
 * becomes a regular header. Missing required headers are an HTTP 400, not a framing error (§12).
 */
export function requestHeadFromHeaders(version: SpdyVersion, streamId: number, headers: FlatHeaders, connection: ConnectionInfo, hasBody: boolean): HeadResult {
  const names = version.headers;
  let method = '';
  let path = '';
  let httpVersion = '';
  let host = '';
  let scheme = '';
  const regular: FlatHeaders = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    const value = headers[i + 1];
    if (name === names.method) method = value;
    else if (name === names.path) path = value;
    else if (name === names.version) httpVersion = value;
    else if (name === names.host) host = value;
    else if (name === names.scheme) scheme = value;
    else if (name.charCodeAt(0) === 58 /* ':' */ || CONNECTION_HEADERS.has(name)) continue;
    else regular.push(name, value);
  }
  if (version.urlIsAbsolute && path.includes('://')) {
    // SPDY/2 may carry an absolute URL in `url`.
    try {
      const url = new URL(path);
      scheme ||= url.protocol.slice(0, -1);
      host ||= url.host;
      path = url.pathname + url.search;
    } catch {
      return { ok: false, problem: `malformed url ${JSON.stringify(path)}` };
    }
  }
  if (method === '') return { ok: false, problem: `missing ${names.method}` };
  if (path === '') return { ok: false, problem: `missing ${names.path}` };
  if (httpVersion === '') return { ok: false, problem: `missing ${names.version}` };
  if (host === '') return { ok: false, problem: `missing ${names.host}` };
  const match = /^HTTP\/(\d\.\d)$/.exec(httpVersion);
  return {
    ok: true,
    head: {
      method,
      target: path,
      authority: host,
      scheme: scheme || (connection.secure ? 'https' : 'http'),
      httpVersion: match === null ? '1.1' : match[1],
      headers: regular,
      connection,
      protocol: { kind: 'spdy', version: version.label, streamId },
      hasBody,
    },
  };
}

/**
 * The SYN_REPLY block: status and version under the version's names, then the app's headers
 * lower-cased, hop-by-hop ones dropped and repeated names joined with NUL (§4).
 */
export function replyHeaders(version: SpdyVersion, status: number, headers: FlatHeaders): FlatHeaders {
  const reason = STATUS_CODES[status];
  const out: FlatHeaders = [
    version.headers.status,
    reason === undefined ? String(status) : `${status} ${reason}`,
    version.headers.version,
    'HTTP/1.1',
  ];
  return appendHeaders(out, headers);
}

/**
 * The SYN_STREAM header block of a push: the request it answers (v3: :scheme, :host, :path;
 * v2: the full URL in `url`, as its spec wants for pushes) and the response head with it, so no
 * HEADERS frame has to follow before the DATA.
 */
export function pushHeaders(version: SpdyVersion, target: { scheme: string; authority: string; path: string }, status: number, headers: FlatHeaders): FlatHeaders {
  const names = version.headers;
  const out: FlatHeaders = version.urlIsAbsolute
    ? [names.path, `${target.scheme}://${target.authority}${target.path}`]
    : [names.scheme, target.scheme, names.host, target.authority, names.path, target.path];
  const reason = STATUS_CODES[status];
  out.push(names.status, reason === undefined ? String(status) : `${status} ${reason}`, names.version, 'HTTP/1.1');
  return appendHeaders(out, headers);
}

/** Appends lower-cased, de-duplicated (NUL-joined) headers without hop-by-hop ones. */
export function appendHeaders(out: FlatHeaders, headers: FlatHeaders): FlatHeaders {
  const start = out.length;
  for (let i = 0; i < headers.length; i += 2) {
    const name = lowerAscii(headers[i]);
    if (CONNECTION_HEADERS.has(name)) continue;
    const value = headers[i + 1];
    let merged = false;
    for (let j = start; j < out.length; j += 2) {
      if (out[j] === name) {
        out[j + 1] += `\0${value}`;
        merged = true;
        break;
      }
    }
    if (!merged) out.push(name, value);
  }
  return out;
}

function lowerAscii(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) return name.toLowerCase();
  }
  return name;
}
