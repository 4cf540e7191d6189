// The one place that knows every protocol: which ALPN ids a listener offers, and which front
// end serves a connection once TLS has settled on one.

import type { TLSSocket } from 'node:tls';
import type { Https2ListenerConfig } from '../config/config.ts';
import type { Http1FrontEnd } from '../http1/front-end.ts';
import type { Http2FrontEnd } from '../http2/front-end.ts';
import { connectionInfo } from '../http1/request-head.ts';
import type { SpdyFrontEnd } from '../spdy/front-end.ts';
import { SPDY_ALPN_IDS, spdyVersionFor } from '../spdy/versions.ts';

export interface FrontEnds {
  readonly spdy: SpdyFrontEnd | undefined;
  readonly http2: Http2FrontEnd | undefined;
  readonly http1: Http1FrontEnd;
}

/**
 * ALPN ids in the server's order of preference: h2 (unless h2=0), then SPDY newest first (only
 * with spdy=1, as uWSGI), then http/1.1.
 */
export function alpnProtocols(listener: Pick<Https2ListenerConfig, 'spdy' | 'h2'>): string[] {
  return [...(listener.h2 ? ['h2'] : []), ...(listener.spdy ? SPDY_ALPN_IDS : []), 'http/1.1'];
}

/** Hands a handshaken TLS connection to the front end of the protocol ALPN chose. */
export function dispatch(socket: TLSSocket, frontEnds: FrontEnds): void {
  const protocol = socket.alpnProtocol;
  if (protocol === 'h2' && frontEnds.http2 !== undefined) {
    frontEnds.http2.accept(socket);
    return;
  }
  if (typeof protocol === 'string' && frontEnds.spdy !== undefined) {
    const version = spdyVersionFor(protocol);
    if (version !== undefined) {
      frontEnds.spdy.accept(socket, version, connectionInfo(socket, true));
      return;
    }
  }
  // http/1.1, or a client that offered no ALPN at all: plain HTTPS.
  frontEnds.http1.accept(socket);
}
