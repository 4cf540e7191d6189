// What every front end checks in a request head before the app sees it, whatever the protocol:
// the method is a token, the target origin-form (or `*` for OPTIONS), the authority a host with
// an optional port, header names tokens and values free of CR, LF and NUL. Each check is one pass
// over the characters with a table lookup per character (no regular expression), and returns a
// verdict; the front end turns it into its protocol's answer (docs/request-heads.md §2).

import { isIPv6 } from 'node:net';
import type { ErrorCode } from '../errors.ts';
import type { RequestHead } from './exchange.ts';

/** Why a request head was refused: a stable code and a message naming what was wrong. */
export interface RequestHeadProblem {
  readonly code: ErrorCode;
  readonly message: string;
}

// One byte of flags per ASCII character (anything >= 0x80 has none).
const TCHAR = 1; // RFC 9110 §5.6.2
const TARGET = 2; // what an origin-form target may hold: visible ASCII but `#`
const REG_NAME = 4; // RFC 3986 §3.2.2: unreserved / sub-delims / `%`
const DIGIT = 8;
const LOWER_TCHAR = 16; // a tchar that is not an upper-case letter (SPDY and h2 field names)

const CHARS = new Uint8Array(128);
for (let c = 0x21; c < 0x7f; c++) if (c !== 0x23) CHARS[c] |= TARGET;
for (const c of "!#$%&'*+-.^_`|~") CHARS[c.charCodeAt(0)] |= TCHAR;
for (const c of "-._~!$&'()*+,;=%") CHARS[c.charCodeAt(0)] |= REG_NAME;
for (let c = 0x30; c <= 0x39; c++) CHARS[c] |= TCHAR | REG_NAME | DIGIT;
for (let c = 0x41; c <= 0x5a; c++) CHARS[c] |= TCHAR | REG_NAME;
for (let c = 0x61; c <= 0x7a; c++) CHARS[c] |= TCHAR | REG_NAME;
for (let c = 0; c < 128; c++) if ((CHARS[c] & TCHAR) !== 0 && !(c >= 0x41 && c <= 0x5a)) CHARS[c] |= LOWER_TCHAR;

function allOf(text: string, flag: number): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || (CHARS[c] & flag) === 0) return false;
  }
  return true;
}

function problem(code: ErrorCode, message: string): RequestHeadProblem {
  return { code, message };
}

/**
 * A problem whose message is written only when something reads it: the refused text quoted,
 * then `describe`'s words. The SPDY front end reads it only to trace, and a flood of bad requests
 * would otherwise build a JSON-quoted copy of each target it refuses (bench scenario 9).
 */
class QuotingProblem implements RequestHeadProblem {
  readonly code: ErrorCode;
  private readonly text: string;
  private readonly describe: (quoted: string, text: string) => string;
  constructor(code: ErrorCode, text: string, describe: (quoted: string, text: string) => string) {
    this.code = code;
    this.text = text;
    this.describe = describe;
  }
  get message(): string {
    return this.describe(JSON.stringify(this.text), this.text);
  }
}

const notAToken = (quoted: string): string => `method ${quoted} is not a token`;
const badTargetCharacter = (quoted: string): string => `request target ${quoted} has a character an origin-form target may not hold`;
const notOriginForm = (quoted: string, target: string): string => `request target ${quoted} is not origin-form${target === '*' ? ' (* is for OPTIONS)' : ''}`;
const notAnAuthority = (quoted: string): string => `authority ${quoted} is not a host with an optional port`;

/** RFC 9110 §9.1: a method is a token (case-sensitive, so `get` is a method, not GET). */
export function checkMethod(method: string): RequestHeadProblem | undefined {
  if (method.length > 0 && allOf(method, TCHAR)) return undefined;
  return new QuotingProblem('SPRY_ERR_BAD_METHOD', method, notAToken);
}

/**
 * The request target must be origin-form (RFC 9112 §3.2.1: `/`, then visible ASCII without `#`)
 * or `*` with OPTIONS (RFC 9112 §3.2.4). Absolute-form and authority-form are refused: spry is not a proxy
 * and does not tunnel, so neither CONNECT nor a proxy's request is served (docs/request-heads.md §3).
 * RFC 3986 forbids a few more characters (`"`, `{`, `|`, …) that browsers send raw and node:http
 * and nghttp2 accept; they are accepted here too.
 */
export function checkTarget(method: string, target: string): RequestHeadProblem | undefined {
  if (target.charCodeAt(0) === 0x2f /* / */) {
    if (allOf(target, TARGET)) return undefined;
    return new QuotingProblem('SPRY_ERR_BAD_TARGET', target, badTargetCharacter);
  }
  if (target === '*' && method === 'OPTIONS') return undefined;
  return new QuotingProblem('SPRY_ERR_BAD_TARGET', target, notOriginForm);
}

/**
 * RFC 9110 §7.2 / RFC 3986 §3.2.2-3: host (a reg-name or IPv4 address, or an IPv6 literal in
 * brackets), then optionally `:` and a port of 1-5 digits. No userinfo. Empty is allowed (an
 * HTTP/1.1 request may carry an empty Host); protocols that require one say so themselves.
 */
export function checkAuthority(authority: string): RequestHeadProblem | undefined {
  let hostEnd = authority.length;
  if (authority.charCodeAt(0) === 0x5b /* [ */) {
    const close = authority.indexOf(']');
    if (close < 0 || !isIPv6(authority.slice(1, close))) return badAuthority(authority);
    hostEnd = close + 1;
    if (hostEnd < authority.length && authority.charCodeAt(hostEnd) !== 0x3a /* : */) return badAuthority(authority);
  } else {
    const colon = authority.indexOf(':');
    if (colon >= 0) hostEnd = colon;
    for (let i = 0; i < hostEnd; i++) {
      const c = authority.charCodeAt(i);
      if (c >= 128 || (CHARS[c] & REG_NAME) === 0) return badAuthority(authority);
    }
  }
  if (hostEnd === authority.length) return undefined;
  const portLength = authority.length - hostEnd - 1;
  if (portLength < 1 || portLength > 5) return badAuthority(authority);
  for (let i = hostEnd + 1; i < authority.length; i++) {
    const c = authority.charCodeAt(i);
    if (c >= 128 || (CHARS[c] & DIGIT) === 0) return badAuthority(authority);
  }
  return undefined;
}

function badAuthority(authority: string): RequestHeadProblem {
  return new QuotingProblem('SPRY_ERR_BAD_AUTHORITY', authority, notAnAuthority);
}

/** The request line's three parts at once, in the order a reader would look at them. */
export function checkRequestLine(method: string, target: string, authority: string): RequestHeadProblem | undefined {
  return checkMethod(method) ?? checkTarget(method, target) ?? checkAuthority(authority);
}

/**
 * A header name is a token (RFC 9110 §5.1); on SPDY and h2, lower case too (RFC 9113 §8.2.1;
 * docs/spdy-protocol.md §17.1). `pseudo` admits one leading `:` (SPDY/3's reserved names).
 */
export function checkFieldName(name: string, options: { lowerCase: boolean; pseudo: boolean }): RequestHeadProblem | undefined {
  const flag = options.lowerCase ? LOWER_TCHAR : TCHAR;
  const start = options.pseudo && name.charCodeAt(0) === 0x3a /* : */ ? 1 : 0;
  let ok = name.length > start;
  for (let i = start; ok && i < name.length; i++) {
    const c = name.charCodeAt(i);
    ok = c < 128 && (CHARS[c] & flag) !== 0;
  }
  if (ok) return undefined;
  return problem('SPRY_ERR_BAD_HEADER_NAME', `header name ${JSON.stringify(name)} is not a${options.lowerCase ? ' lower-case' : ''} token`);
}

/**
 * Where the first CR, LF or NUL is in `bytes` from `start` to `end`, or -1: one pass over a raw
 * value, for a decoder that holds bytes (SPDY's, which also finds its NUL separators so).
 */
export function forbiddenValueByte(bytes: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c <= 0x0d && (c === 0x0d || c === 0x0a || c === 0)) return i;
  }
  return -1;
}

/** RFC 9110 §5.5: a field value never holds CR, LF or NUL (they would split or end it downstream). */
export function checkFieldValue(name: string, value: string): RequestHeadProblem | undefined {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x0d && (c === 0x0d || c === 0x0a || c === 0)) {
      return problem('SPRY_ERR_BAD_HEADER_VALUE', `header ${name}'s value holds ${c === 0 ? 'NUL' : c === 0x0d ? 'CR' : 'LF'}`);
    }
  }
  return undefined;
}

/**
 * Everything at once, for a head no parser has checked (the uwsgi front end's variables): the
 * request line, then each header's name (a token, as the variable names it) and value.
 */
export function checkRequestHead(head: RequestHead): RequestHeadProblem | undefined {
  const line = checkRequestLine(head.method, head.target, head.authority);
  if (line !== undefined) return line;
  const headers = head.headers;
  for (let i = 0; i < headers.length; i += 2) {
    const problem = checkFieldName(headers[i], PLAIN_NAMES) ?? checkFieldValue(headers[i], headers[i + 1]);
    if (problem !== undefined) return problem;
  }
  return undefined;
}
const PLAIN_NAMES = { lowerCase: false, pseudo: false };

/** The plain-text body of a 400 that names what was wrong (HTTP/1.1 and uwsgi). */
export function badRequestBody(problem: RequestHeadProblem): string {
  return `Bad Request: ${problem.message}\n`;
}
