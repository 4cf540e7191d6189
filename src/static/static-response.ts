// The response to a static file request: status and headers from the file, the request's
// conditional and range headers, and the cache rules; then its body from the file.

import { close } from 'node:fs';
import type { FlatHeaders, ServerExchange } from '../exchange/exchange.ts';
import { headerValue } from '../exchange/flat-headers.ts';
import { fileVerdict } from './conditional.ts';
import type { FileDescription } from './file-description.ts';
import { CONNECTION_PUMP, H2_STREAM_PUMP, pumpFile, STREAM_PUMP, type PumpShape } from './file-pump.ts';
import type { ExpiresRule, StaticFilesConfig } from './static-config.ts';

/** A file's body: an open file (closed when done), or the bytes of a small one (the cache's). */
export type FileBody = number | Buffer;

/** Answers `exchange` with `file`, its body from `body`. */
export function serveFile(exchange: ServerExchange, config: StaticFilesConfig, body: FileBody, file: FileDescription): void {
  const head = exchange.head;
  const { validators, contentType, facts: stats } = file;
  const headers: FlatHeaders = ['etag', validators.etag, 'last-modified', validators.lastModified, 'accept-ranges', 'bytes'];
  addExpires(headers, config.expires, contentType, head.target);
  const verdict = fileVerdict(stats, validators, conditionalHeaders(head.headers), head.method);
  const size = stats.size;
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
    case 'whole':
      headers.push('content-type', contentType, 'content-length', String(size));
      return send(exchange, 200, headers, body, 0, size - 1);
  }
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

function conditionalHeaders(flat: FlatHeaders): { ifNoneMatch?: string; ifModifiedSince?: string; range?: string; ifRange?: string } {
  const ifNoneMatch = headerValue(flat, 'if-none-match');
  const ifModifiedSince = headerValue(flat, 'if-modified-since');
  const range = headerValue(flat, 'range');
  const ifRange = headerValue(flat, 'if-range');
  return {
    ...(ifNoneMatch === undefined ? {} : { ifNoneMatch }),
    ...(ifModifiedSince === undefined ? {} : { ifModifiedSince }),
    ...(range === undefined ? {} : { range }),
    ...(ifRange === undefined ? {} : { ifRange }),
  };
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
