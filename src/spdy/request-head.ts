// Turns a SYN_STREAM's decoded headers into the protocol-neutral RequestHead, and an app's
// response headers into a SYN_REPLY's. The version table names the reserved headers.

import { STATUS_CODES } from 'node:http';
import { CONNECTION_HEADERS } from '../exchange/connection-headers.ts';
import type { ConnectionInfo, FlatHeaders, RequestHead } from '../exchange/exchange.ts';
import { checkAuthority, checkMethod, checkTarget, type RequestHeadProblem } from '../exchange/request-validation.ts';
import type { SpdyVersion } from './versions.ts';


/** What the version's pattern finds in the version nearly every request carries. */
const HTTP_1_1 = ['HTTP/1.1', '1.1'] as const;

/** A head that parses, or what it lacks with the head as far as it goes (for the access line of its 400). */
export type HeadResult = { ok: true; head: RequestHead } | { ok: false; problem: string; head: RequestHead };

/**
 * Reads method, target, version, host and scheme out of the reserved headers; everything else
 * becomes a regular header. Missing required headers are an HTTP 400, not a framing error (docs/spdy-protocol.md §12).
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
  if (version.urlIsAbsolute) {
    // SPDY/2 may carry an absolute URL in `url` (checked by requestFieldsProblem already).
    const url = splitAbsoluteUrl(path);
    if (url !== undefined) {
      scheme ||= url.scheme;
      host ||= url.authority;
      path = url.path;
    }
  }
  const missing = method === '' ? names.method : path === '' ? names.path : httpVersion === '' ? names.version : host === '' ? names.host : undefined;
  const match = httpVersion === 'HTTP/1.1' ? HTTP_1_1 : /^HTTP\/(\d\.\d)$/.exec(httpVersion);
  const head: RequestHead = {
    method: method || '-',
    target: path || '-',
    authority: host,
    scheme: scheme || (connection.secure ? 'https' : 'http'),
    httpVersion: match === null ? '1.1' : match[1],
    headers: regular,
    connection,
    protocol: { kind: 'spdy', version: version.label, streamId },
    hasBody,
  };
  return missing === undefined ? { ok: true, head } : { ok: false, problem: `missing ${missing}`, head };
}

/**
 * Whether a decoded block's request line is one spry serves (docs/request-heads.md §2): the
 * method a token, the path origin-form (or `*` for OPTIONS; SPDY/2's `url` may also be an
 * absolute http(s) URL, docs/spdy-protocol.md §4.2), the host a host with an optional port.
 * Only what is present is checked: a missing field is an HTTP 400 (requestHeadFromHeaders).
 * The header-block decoder calls this, so a refusal is a stream error (RST_STREAM
 * PROTOCOL_ERROR) like any bad header, before a stream exists for the app.
 */
export function requestFieldsProblem(version: SpdyVersion, headers: FlatHeaders): RequestHeadProblem | undefined {
  const names = version.headers;
  let method: string | undefined;
  let path: string | undefined;
  let host: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    if (name === names.method) method = headers[i + 1];
    else if (name === names.path) path = headers[i + 1];
    else if (name === names.host) host = headers[i + 1];
  }
  if (method !== undefined) {
    const problem = checkMethod(method);
    if (problem !== undefined) return problem;
  }
  if (path !== undefined) {
    const url = version.urlIsAbsolute ? splitAbsoluteUrl(path) : undefined;
    const problem = url === undefined ? checkTarget(method ?? '', path) : (checkAuthority(url.authority) ?? checkTarget(method ?? '', url.path));
    if (problem !== undefined) return problem;
  }
  return host === undefined ? undefined : checkAuthority(host);
}

/** `http://authority/path?query` (or https) in parts; undefined if `url` does not start so. */
function splitAbsoluteUrl(url: string): { scheme: string; authority: string; path: string } | undefined {
  const schemeEnd = url.startsWith('http://') ? 4 : url.startsWith('https://') ? 5 : -1;
  if (schemeEnd < 0) return undefined;
  const authorityStart = schemeEnd + 3;
  let pathStart = authorityStart;
  while (pathStart < url.length && url.charCodeAt(pathStart) !== 0x2f /* / */ && url.charCodeAt(pathStart) !== 0x3f /* ? */) pathStart++;
  const rest = url.slice(pathStart);
  return { scheme: url.slice(0, schemeEnd), authority: url.slice(authorityStart, pathStart), path: rest.charCodeAt(0) === 0x2f ? rest : `/${rest}` };
}

/**
 * The SYN_REPLY block: status and version under the version's names, then the app's headers
 * lower-cased, hop-by-hop ones dropped and repeated names joined with NUL (docs/spdy-protocol.md §4).
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
