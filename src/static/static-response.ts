// The response to a static file request: status and headers from the file, the request's
// conditional and range headers, and the cache rules; then its body from the file.

import { close } from 'node:fs';
import type { FlatHeaders, ServerExchange } from '../exchange/exchange.ts';
import { fileVerdict, WHOLE, type ConditionalHeaders } from './conditional.ts';
import type { FileDescription } from './file-description.ts';
import { CONNECTION_PUMP, H2_STREAM_PUMP, pumpFile, STREAM_PUMP, type PumpShape } from './file-pump.ts';
import type { ExpiresRule, StaticFilesConfig } from './static-config.ts';

/** A file's body: an open file (closed when done), or the bytes of a small one (the cache's). */
export type FileBody = number | Buffer;

/** Answers `exchange` with `file`, its body from `body`. */
export function serveFile(exchange: ServerExchange, config: StaticFilesConfig, body: FileBody, file: FileDescription): void {
  const head = exchange.head;
  const { validators, contentType, facts: stats } = file;
  const conditional = conditionalHeaders(head.headers);
  const verdict = conditional === undefined ? WHOLE : fileVerdict(stats, validators, conditional, head.method);
  const size = stats.size;
  if (verdict.kind === 'whole') {
    // The file's own 200 head, built once with its description: most responses are this one.
    const whole = config.expires.length === 0 ? file.wholeHead : withExpires(file.wholeHead, config.expires, contentType, head.target);
    return send(exchange, 200, whole, body, 0, size - 1);
  }
  const headers: FlatHeaders = ['etag', validators.etag, 'last-modified', validators.lastModified, 'accept-ranges', 'bytes'];
  addExpires(headers, config.expires, contentType, head.target);
  switch (verdict.kind) {
    case 'not-modified':
      release(body);
      exchange.respond(304, headers, true);
      return;
    case 'unsatisfiable':
      release(body);
      headers.push('content-range', `bytes */${size}`, 'content-length', '0');
      exchange.respond(416, headers, true);
      return;
    case 'range':
      headers.push('content-type', contentType, 'content-range', `bytes ${verdict.start}-${verdict.end}/${size}`, 'content-length', String(verdict.end + 1 - verdict.start));
      return send(exchange, 206, headers, body, verdict.start, verdict.end);
  }
}

/**
 * Whether a request for a file is answered with its whole 200 head as it was built, untouched:
 * no cache rules to add and none of the headers that could make it a 304 or a 206. For a path
 * that answers such a request without an exchange (node:http's own HTTP/1.1 response).
 */
export function getsWholeHead(config: StaticFilesConfig, headers: readonly string[]): boolean {
  return config.expires.length === 0 && conditionalHeaders(headers) === undefined;
}

function send(exchange: ServerExchange, status: number, headers: FlatHeaders, body: FileBody, start: number, end: number): void {
  if (exchange.head.method === 'HEAD' || end < start) {
    release(body);
    exchange.respond(status, headers, true);
    return;
  }
  if (typeof body !== 'number') {
    const bytes = body.subarray(start, end + 1);
    if (exchange.respondWithBody !== undefined) return exchange.respondWithBody(status, headers, bytes);
    exchange.respond(status, headers, false);
    exchange.end(bytes);
  } else {
    exchange.respond(status, headers, false);
    pumpFile(body, start, end, exchange, pumpShape(exchange));
  }
}

/** SPDY and h2 streams share a connection: a peer can hold many of them at window 0. */
function pumpShape(exchange: ServerExchange): PumpShape {
  const kind = exchange.head.protocol.kind;
  return kind === 'h2' ? H2_STREAM_PUMP : kind === 'spdy' ? STREAM_PUMP : CONNECTION_PUMP;
}

function release(body: FileBody): void {
  if (typeof body === 'number') close(body, ignore);
}

/**
 * The request's If-None-Match, If-Modified-Since, Range and If-Range, or undefined without any
 * (most requests): one pass, names in any case (node:http's raw ones too), the first of each.
 */
export function conditionalHeaders(pairs: readonly string[]): ConditionalHeaders | undefined {
  let found: { ifNoneMatch?: string; ifModifiedSince?: string; range?: string; ifRange?: string } | undefined;
  for (let i = 0; i < pairs.length; i += 2) {
    const name = pairs[i];
    const length = name.length;
    // Only these lengths can be one of the four: nothing else is lower-cased.
    if (length !== 5 && length !== 8 && length !== 13 && length !== 17) continue;
    const lower = name.toLowerCase();
    const value = pairs[i + 1];
    if (lower === 'range') (found ??= {}).range ??= value;
    else if (lower === 'if-range') (found ??= {}).ifRange ??= value;
    else if (lower === 'if-none-match') (found ??= {}).ifNoneMatch ??= value;
    else if (lower === 'if-modified-since') (found ??= {}).ifModifiedSince ??= value;
  }
  return found;
}

/** A copy of a whole file's head with the first matching cache rule's headers added. */
function withExpires(whole: FlatHeaders, rules: readonly ExpiresRule[], contentType: string, target: string): FlatHeaders {
  const headers = [...whole];
  addExpires(headers, rules, contentType, target);
  return headers;
}

/** Cache-Control max-age and Expires from the first rule that matches, as uWSGI's offloader sends. */
export function addExpires(headers: FlatHeaders, rules: readonly ExpiresRule[], contentType: string, target: string): void {
  if (rules.length === 0) return;
  const baseType = contentType.split(';')[0];
  for (const rule of rules) {
    if (rule.kind === 'type' ? rule.type !== baseType : !compiled(rule.pattern).test(target)) continue;
    headers.push('cache-control', `max-age=${rule.seconds}`, 'expires', new Date(Date.now() + rule.seconds * 1000).toUTCString());
    return;
  }
}

/** --static-expires-uri patterns, compiled once (they were checked at startup). */
const patterns = new Map<string, RegExp>();
function compiled(pattern: string): RegExp {
  let regex = patterns.get(pattern);
  if (regex === undefined) patterns.set(pattern, (regex = new RegExp(pattern)));
  return regex;
}

function ignore(): void {}
