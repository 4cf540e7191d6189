// What the stats count from outside a request's exchange: connections by protocol, protocol
// errors by code, cache reads, the push planner's pushes. The layers that see these (listeners,
// front ends, the cache, the planner) call in here; each call is a no-op while nothing observes
// (startObservation sets the Stats when the access log, stats or metrics are on).

import type { Socket } from 'node:net';
import type { Stats } from './stats.ts';

let stats: Stats | undefined;

export function countInto(into: Stats | undefined): void {
  stats = into;
}

/** A connection is served as `protocol` (h2, h2c, spdy/3.1, http/1.1, uwsgi …) until it closes. */
export function countConnection(socket: Socket, protocol: string): void {
  const into = stats;
  if (into === undefined) return;
  into.connectionOpened(protocol);
  socket.once('close', () => into.connectionClosed(protocol));
}

export function countProtocolError(protocol: string, code: string): void {
  stats?.protocolError(protocol, code);
}

export function countCacheLookup(cache: string, hit: boolean): void {
  stats?.cacheLookup(cache, hit);
}

/** A push the cache push planner started (sent) or the protocol would not take (refused). */
export function countPlannedPush(sent: boolean): void {
  if (stats === undefined) return;
  if (sent) stats.pushesSent++;
  else stats.pushesRefused++;
}
