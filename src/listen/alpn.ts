// The one place that knows every protocol: which ids a listener offers (ALPN on TLS, the first
// bytes on plain listeners), the front end each id is served by, and the dispatch of an accepted
// connection to it.

import type { Socket } from 'node:net';
import type { App } from '../apps/app.ts';
import type { StreamTuning } from '../config/config.ts';
import type { ConnectionInfo } from '../exchange/connection-info.ts';
import { createHttp1FrontEnd } from '../http1/front-end.ts';
import { createHttp2FrontEnd } from '../http2/front-end.ts';
import type { PushPlanner } from '../push/push-planner.ts';
import { createSpdyFrontEnd } from '../spdy/front-end.ts';
import { SPDY_ALPN_IDS, spdyVersionFor } from '../spdy/versions.ts';
import type { FrontEnd } from './front-end.ts';
import { countConnection } from '../observe/counters.ts';

/** Every protocol id a listener may offer, newest first within each family. */
export const PROTOCOL_IDS = ['h2', ...SPDY_ALPN_IDS, 'http/1.1', 'http/1.0'] as const;
export type ProtocolId = (typeof PROTOCOL_IDS)[number];

export function isProtocolId(id: string): id is ProtocolId {
  return (PROTOCOL_IDS as readonly string[]).includes(id);
}

/**
 * ALPN ids in the server's order of preference: h2 (unless h2=0), then SPDY newest first (only
 * with spdy=1, as uWSGI), then http/1.1.
 */
export function alpnProtocols(listener: { readonly spdy: boolean; readonly h2: boolean }): ProtocolId[] {
  return [...(listener.h2 ? ['h2' as const] : []), ...(listener.spdy ? SPDY_ALPN_IDS : []), 'http/1.1'];
}

/** The front ends of one listener, by protocol id; HTTP/1.1 is always there (clients without ALPN). */
export type FrontEnds = ReadonlyMap<ProtocolId, FrontEnd>;

export interface FrontEndOptions {
  readonly idleTimeoutMs: number;
  readonly tuning: StreamTuning;
  readonly pushPlanner?: PushPlanner;
}

export function createFrontEnds(protocols: readonly ProtocolId[], app: App, options: FrontEndOptions): FrontEnds {
  const frontEnds = new Map<ProtocolId, FrontEnd>();
  const http1 = createHttp1FrontEnd(app, options);
  frontEnds.set('http/1.1', http1).set('http/1.0', http1);
  for (const id of protocols) {
    if (id === 'h2') frontEnds.set(id, createHttp2FrontEnd(app, options));
    const version = spdyVersionFor(id);
    if (version !== undefined) frontEnds.set(id, createSpdyFrontEnd(app, version, options));
  }
  return frontEnds;
}

/**
 * Hands an accepted connection to the front end of `protocol` (what ALPN chose, or what the
 * first bytes said); anything else, a client that offered no ALPN included, gets HTTP/1.1.
 */
export function dispatch(socket: Socket, frontEnds: FrontEnds, connection: ConnectionInfo, protocol: string | false | null | undefined): void {
  const chosen = typeof protocol === 'string' ? frontEnds.get(protocol as ProtocolId) : undefined;
  countConnection(socket, chosen === undefined ? 'http/1.1' : protocol === 'h2' && !connection.secure ? 'h2c' : (protocol as string));
  (chosen ?? frontEnds.get('http/1.1')!).accept(socket, connection);
}

/** The protocols as the startup log names them: h2 on a plain listener is h2c. */
export function shownProtocols(protocols: readonly ProtocolId[], plain: boolean): string[] {
  return plain ? protocols.map((id) => (id === 'h2' ? 'h2c' : id)) : [...protocols];
}

/** Each front end once (HTTP/1.1 is filed under two ids). */
export function eachFrontEnd(frontEnds: FrontEnds): Set<FrontEnd> {
  return new Set(frontEnds.values());
}

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** A SPDY control frame starts with the control bit and the 15-bit version: 0x80 0x02 or 0x80 0x03. */
const SPDY_CONTROL_BIT = 0x80;

/**
 * What a plain connection speaks, from its first bytes: 'h2' for the h2c preface (prior
 * knowledge, RFC 9113 §3.3), a SPDY id for a SPDY control frame (plain SPDY, as behind a TLS
 * terminator; 3 is spdy/3.1 when offered), 'http/1.1' otherwise, or undefined while the bytes
 * seen could still be either. An HTTP/1.1 request line never starts with "PRI * HTTP/2.0" or 0x80.
 */
export function sniffProtocol(seen: Buffer, offered: readonly ProtocolId[]): ProtocolId | undefined {
  if (seen.length === 0) return undefined;
  if (seen[0] === SPDY_CONTROL_BIT && offered.some((id) => spdyVersionFor(id) !== undefined)) {
    if (seen.length < 2) return undefined;
    if (seen[1] === 2 && offered.includes('spdy/2')) return 'spdy/2';
    if (seen[1] === 3) return offered.includes('spdy/3.1') ? 'spdy/3.1' : offered.includes('spdy/3') ? 'spdy/3' : 'http/1.1';
    return 'http/1.1';
  }
  const n = Math.min(seen.length, H2_PREFACE.length);
  if (!seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return 'http/1.1';
  if (n < H2_PREFACE.length) return undefined;
  return offered.includes('h2') ? 'h2' : 'http/1.1';
}
