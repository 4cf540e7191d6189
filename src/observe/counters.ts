// What the stats count from outside a request's exchange: connections by protocol, protocol
// errors by code, requests a front end refused itself, cache reads, the push planner's pushes.
// The layers that see these (listeners, front ends, the cache, the planner) call in here; each
// call is a no-op while nothing observes (startObservation sets the Observer when the access
// log, stats or metrics are on).

import type { Socket } from 'node:net';
import type { FlatHeaders, RequestHead } from '../exchange/exchange.ts';
import { wireProtocol, type AccessRecord } from './access-record.ts';
import type { Observer } from './observer.ts';

let observer: Observer | undefined;

export function countInto(into: Observer | undefined): void {
  observer = into;
}

/** Whether anything counts: a caller whose record costs something to build asks first. */
export function counting(): boolean {
  return observer !== undefined;
}

/** A connection is served as `protocol` (h2, h2c, spdy/3.1, http/1.1, uwsgi …) until it closes. */
export function countConnection(socket: Socket, protocol: string): void {
  const into = observer?.stats;
  if (into === undefined) return;
  into.connectionOpened(protocol);
  socket.once('close', () => into.connectionClosed(protocol));
}

export function countProtocolError(protocol: string, code: string): void {
  observer?.stats.protocolError(protocol, code);
}

/**
 * A request the front end answered itself, before any app saw it (a 400 for a head node:http's
 * parser or spry's checks refused, a 426 or 501 for an upgrade no app takes): an access line and
 * a request by status class, as nginx logs its 400s, and, when the client is at fault, a protocol
 * error under `code`. `headerBytes` is what went out as the head, or the head's fields (h2, whose
 * real head is compressed: sized as HTTP/1.1 would write it); `bodyBytes` the body.
 */
export function countRefusal(head: RequestHead, code: string | undefined, status: number, headerBytes: number | FlatHeaders, bodyBytes: number): void {
  const into = observer;
  if (into === undefined) return;
  if (code !== undefined) into.stats.protocolError(wireProtocol(head), code);
  const sized = typeof headerBytes === 'number';
  into.ended(refusalRecord(head, status, sized ? headerBytes : -1, sized ? undefined : headerBytes, bodyBytes, undefined));
}

/**
 * A stream the front end reset itself (RST_STREAM `reset`, e.g. PROTOCOL_ERROR) before any app
 * saw it: an access line with status 0 that names the reset and, given `code`, a protocol error
 * under it (undefined: the caller counts the error itself, as SPDY's sessions report theirs).
 */
export function countReset(head: RequestHead, code: string | undefined, reset: string): void {
  const into = observer;
  if (into === undefined) return;
  if (code !== undefined) into.stats.protocolError(wireProtocol(head), code);
  into.ended(refusalRecord(head, 0, 0, undefined, 0, reset));
}

function refusalRecord(head: RequestHead, status: number, headerBytes: number, responseHeaders: FlatHeaders | undefined, bodyBytes: number, reset: string | undefined): AccessRecord {
  return { head, status, responseHeaders, headerBytes, bodyBytes, requestBytes: -1, startedAt: performance.now(), durationMs: 0, backend: undefined, cut: false, reset };
}

export function countCacheLookup(cache: string, hit: boolean): void {
  observer?.stats.cacheLookup(cache, hit);
}

/** A push the cache push planner started (sent) or the protocol would not take (refused). */
export function countPlannedPush(sent: boolean): void {
  observer?.pushed(sent);
}
