// The one place that knows every protocol: which ALPN ids a listener offers, and which front
// end serves a connection once TLS has settled on one. HTTP/2 plugs in here (issue 3).

import type { TLSSocket } from 'node:tls';
import type { Https2ListenerConfig } from '../config/config.ts';
import type { Http1FrontEnd } from '../http1/front-end.ts';
import { connectionInfo } from '../http1/request-head.ts';
import type { SpdyFrontEnd } from '../spdy/front-end.ts';
import { SPDY_ALPN_IDS, spdyVersionFor } from '../spdy/versions.ts';

export interface FrontEnds {
  readonly spdy: SpdyFrontEnd | undefined;
  readonly http1: Http1FrontEnd;
}

/** ALPN ids in the server's order of preference. */
export function alpnProtocols(listener: Pick<Https2ListenerConfig, 'spdy'>): string[] {
  return [...(listener.spdy ? SPDY_ALPN_IDS : []), 'http/1.1'];
}

/** Hands a handshaken TLS connection to the front end of the protocol ALPN chose. */
export function dispatch(socket: TLSSocket, frontEnds: FrontEnds): void {
  const protocol = socket.alpnProtocol;
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
