// What the stats count from outside a request's exchange: connections by protocol, protocol
// errors by code, requests a front end refused itself, cache reads, the push planner's pushes.
// The layers that see these (listeners, front ends, the cache, the planner) call in here; each
// call is a no-op while nothing observes (startObservation sets the Observer when the access
// log, stats or metrics are on).

import type { Socket } from 'node:net';
import type { RequestHead } from '../exchange/exchange.ts';
import { wireProtocol, type AccessRecord } from './access-record.ts';
import type { Observer } from './observer.ts';

let observer: Observer | undefined;

export function countInto(into: Observer | undefined): void {
  observer = into;
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
 * parser or spry's checks refused): a protocol error under `code`, and an access line and a
 * request by status class, as nginx logs its 400s. `headerBytes` and `bodyBytes` are what went out.
 */
export function countRefusal(head: RequestHead, code: string, status: number, headerBytes: number, bodyBytes: number): void {
  const into = observer;
  if (into === undefined) return;
  into.stats.protocolError(wireProtocol(head), code);
  const record: AccessRecord = { head, status, responseHeaders: undefined, headerBytes, bodyBytes, requestBytes: -1, startedAt: performance.now(), durationMs: 0, backend: undefined, cut: false };
  into.ended(record);
}

export function countCacheLookup(cache: string, hit: boolean): void {
  observer?.stats.cacheLookup(cache, hit);
}

/** A push the cache push planner started (sent) or the protocol would not take (refused). */
export function countPlannedPush(sent: boolean): void {
  observer?.pushed(sent);
}
