// The hostile backend's fuzz source (--http-to: src/upstream/http-response-parser.ts and the
// attempts around it): for case i of a seed, the request the client sends through spry and the
// bytes the backend answers it with, made from (seed, i) alone so that the backend, which learns
// i from the request's target, and the client agree whatever order the cases arrive in.
// Responses: status lines good and bad, 1xx interim heads, header names and values that are not
// tokens or hold CR/NUL, Content-Length repeated, differing or not digits, chunked bodies with
// bad sizes, extensions, trailers or a missing CRLF, bodies shorter or longer than declared,
// heads past the limit, bare LF lines, and after the response: the connection kept, closed,
// reset, left silent, or followed by bytes nobody asked for. Every body is the case's marker
// repeated, so that an answer carrying another case's bytes shows.

import { Dice } from './dice.ts';

const STATUS_LINES = [
  'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 404 Not Found', 'HTTP/1.0 200 OK', 'HTTP/1.1 204 No Content', 'HTTP/1.1 304 Not Modified',
  'HTTP/1.1 301 Moved', 'HTTP/1.1 500 Oops', 'HTTP/2.0 200 OK', 'Status: 200 OK', 'HTTP/1.1 200', 'HTTP/1.1 000 Zero', 'HTTP/1.1 099 Low', 'HTTP/1.1 999 High',
  'HTTP/1.1 600 Six', 'HTTP/1.1 20 OK', 'ICY 200 OK', 'HTTP/1.1 200 OK\0', 'http/1.1 200 ok', 'HTTP/1.1 101 Switching Protocols', 'HTTP/1.1 200 \xff\xfe', '',
];
const INTERIM = ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 103 Early Hints\r\nlink: </a>; rel=preload\r\n\r\n', 'HTTP/1.1 102 Processing\r\n\r\n', 'HTTP/1.1 100 Continue\r\nx: \0\r\n\r\n'];
const ODD_HEADERS: (readonly [string, string])[] = [
  ['x-a', 'b'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2'], ['X-Upper', 'v'], ['a b', 'v'], ['', 'v'], [' x', 'v'], ['x(y)', 'v'], ['x', 'a\0b'], ['x', 'a\rb'],
  ['x', '\xff\xfe'], ['x', '\x7f'], ['x', ''], ['x', ' padded '], ['connection', 'close'], ['connection', 'keep-alive'], ['connection', 'upgrade'], ['keep-alive', 'timeout=5'],
  ['upgrade', 'websocket'], ['proxy-connection', 'x'], ['te', 'trailers'], ['trailer', 'x'], ['x-long', 'v'.repeat(10_000)], ['content-type', 'text/html'], ['location', '/\r\nx'],
  [':status', '200'], ['link', '</static/style.css>; rel=preload; as=style'], ['date', 'x'], ['content-encoding', 'gzip'],
];
const FRAMINGS = ['length', 'length', 'length', 'chunked', 'chunked', 'close', 'length-short', 'length-long', 'length-twice', 'length-differing', 'length-not-digits', 'chunked-and-length', 'te-other', 'te-chunked-not-last'] as const;
const NOT_DIGITS = ['1e3', '-1', ' 5', '5 ', '+5', '0x5', '', '99999999999999999999', '5,5', '\u0665'];
const BAD_SIZES = ['zz', '-1', 'ffffffffffffffffff', '', ' 5', '5 ', 'x5', '1'.repeat(2000), '0x5'];
const AFTERS = ['keep', 'keep', 'keep', 'close', 'close', 'reset', 'extra', 'silent'] as const;
/** Silence costs a round the backend timeout: rarer than the other endings. */
const SILENT_CHANCE = 0.02;
export type BackendAfter = (typeof AFTERS)[number];

export interface BackendCase {
  /** What the client sends through spry. */
  readonly method: 'GET' | 'HEAD' | 'POST';
  /** A POST's body: its size, and whether the client declares it (else sends it chunked). */
  readonly body: { readonly bytes: number; readonly declared: boolean } | undefined;
  /** The backend answers once the request's body is in, or at once. */
  readonly readBodyFirst: boolean;
  /** The backend's answer, in the chunks to write it in. */
  readonly response: Buffer[];
  readonly pauseEvery: number;
  /** What the backend does with the connection after the answer. */
  readonly after: BackendAfter;
}

/** The marker every body of case `index` repeats. */
export function caseMarker(index: number): string {
  return `case-${index};`;
}

export function backendCase(seed: number, index: number): BackendCase {
  const dice = new Dice((Math.imul(seed, 0x9e37_79b1) + index * 0x85eb_ca6b) >>> 0);
  const method = dice.chance(0.75) ? 'GET' : dice.chance(0.4) ? 'HEAD' : 'POST';
  const body = method === 'POST' ? { bytes: dice.pick([0, 1, 100, 70_000]), declared: dice.chance(0.6) } : undefined;
  const head: string[] = [];
  for (let i = dice.chance(0.8) ? 0 : 1 + dice.int(3); i > 0; i--) head.push(dice.pick(INTERIM));
  if (dice.chance(0.01)) for (let i = 0; i < 300; i++) head.push(INTERIM[0]); // a flood of interim heads
  const statusLine = dice.chance(0.85) ? STATUS_LINES[dice.int(3)] : dice.pick(STATUS_LINES);
  const headers: string[] = ['content-type: text/plain'];
  for (let i = dice.chance(0.5) ? 0 : 1 + dice.int(4); i > 0; i--) {
    const [name, value] = dice.pick(ODD_HEADERS);
    headers.push(`${name}: ${value}`);
  }
  if (dice.chance(0.02)) for (let i = 0; i < 300; i++) headers.push(`x-many-${i}: v`); // past the count limit
  if (dice.chance(0.02)) headers.push(`x-huge: ${'h'.repeat(70_000)}`); // past the head limit
  const marker = caseMarker(index);
  const bodyText = marker.repeat(dice.pick([0, 1, 3, 100, 5000]));
  const framing = dice.pick(FRAMINGS);
  let payload = '';
  switch (framing) {
    case 'length':
      headers.push(`content-length: ${bodyText.length}`);
      payload = bodyText;
      break;
    case 'length-short': // fewer bytes than declared (then the connection's fate)
      headers.push(`content-length: ${bodyText.length + 1 + dice.int(50)}`);
      payload = bodyText;
      break;
    case 'length-long': // more bytes than declared: the rest is excess
      headers.push(`content-length: ${bodyText.length}`);
      payload = `${bodyText}${marker}`;
      break;
    case 'length-twice':
      headers.push(`content-length: ${bodyText.length}`, `Content-Length: ${bodyText.length}`);
      payload = bodyText;
      break;
    case 'length-differing':
      headers.push(`content-length: ${bodyText.length}`, `content-length: ${bodyText.length + 1}`);
      payload = bodyText;
      break;
    case 'length-not-digits':
      headers.push(`content-length: ${dice.pick(NOT_DIGITS)}`);
      payload = bodyText;
      break;
    case 'chunked':
      headers.push(dice.pick(['transfer-encoding: chunked', 'Transfer-Encoding: Chunked', 'transfer-encoding: gzip, chunked']));
      payload = chunked(dice, bodyText);
      break;
    case 'chunked-and-length':
      headers.push('transfer-encoding: chunked', `content-length: ${dice.int(100)}`);
      payload = chunked(dice, bodyText);
      break;
    case 'te-other':
      headers.push('transfer-encoding: gzip');
      payload = bodyText;
      break;
    case 'te-chunked-not-last':
      headers.push('transfer-encoding: chunked, gzip');
      payload = chunked(dice, bodyText);
      break;
    case 'close':
      payload = bodyText;
      break;
  }
  const eol = dice.chance(0.03) ? '\n' : '\r\n'; // bare LF lines: never a head's end to spry
  let text = `${head.join('')}${statusLine}${eol}${headers.join(eol)}${eol}${eol}${payload}`;
  const after = dice.chance(SILENT_CHANCE) ? 'silent' : dice.pick(AFTERS.slice(0, -1));
  if (after === 'extra') text += dice.pick([`HTTP/1.1 200 OK\r\ncontent-length: ${marker.length}\r\n\r\n${marker}`, '\r\n', marker]);
  let response = Buffer.from(text, 'latin1');
  if (dice.chance(0.05)) response = response.subarray(0, dice.int(response.length)); // cut anywhere
  return { method, body, readBodyFirst: dice.chance(0.7), response: dice.split(response, [1, 3, 64, 1000, 16_384, 100_000]), pauseEvery: dice.chance(0.2) ? 1 : 8, after };
}

/** `text` as a chunked body: chunks of random sizes, sometimes a bad size line, extension, trailer or missing CRLF. */
function chunked(dice: Dice, text: string): string {
  let out = '';
  for (let at = 0; at < text.length; ) {
    const size = Math.min(text.length - at, 1 + dice.int(3000));
    const sizeText = dice.chance(0.97) ? dice.pick([size.toString(16), size.toString(16).toUpperCase(), `00${size.toString(16)}`, `${size.toString(16)};ext=1`, `${size.toString(16)} ; x`]) : dice.pick(BAD_SIZES);
    out += `${sizeText}\r\n${text.slice(at, at + size)}${dice.chance(0.98) ? '\r\n' : dice.pick(['', '\n', 'XX'])}`;
    at += size;
  }
  const last = dice.chance(0.95) ? '0' : dice.pick(['000', '0;x=y', '0 ']);
  const trailers = dice.chance(0.9) ? '' : dice.pick(['x-t: v\r\n', 'content-length: 5\r\n', 'x-bad\r\n', `x-long: ${'t'.repeat(70_000)}\r\n`]);
  return `${out}${last}\r\n${trailers}${dice.chance(0.97) ? '\r\n' : ''}`;
}
