// One --https2 listener: a TLS server whose connections the ALPN dispatcher hands to HTTP/2,
// SPDY or HTTP/1.1, all serving the same app.

import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { App } from '../apps/app.ts';
import type { Https2ListenerConfig } from '../config/config.ts';
import { createHttp1FrontEnd } from '../http1/front-end.ts';
import { createHttp2FrontEnd } from '../http2/front-end.ts';
import { tracer } from '../log.ts';
import { createSpdyFrontEnd } from '../spdy/front-end.ts';
import { alpnProtocols, dispatch, type FrontEnds } from './alpn.ts';
import { bind, closeGracefully } from './bind.ts';

const trace = tracer('tls');

/** How long a graceful close waits for open connections before destroying them. */
const CLOSE_GRACE_MS = 10_000;

export interface HttpsListener {
  readonly config: Https2ListenerConfig;
  readonly address: AddressInfo;
  readonly protocols: readonly string[];
  /** Stops accepting, lets open streams finish (GOAWAY on SPDY), then resolves. */
  close(): Promise<void>;
}

export async function startHttpsListener(config: Https2ListenerConfig, app: App, options: { idleTimeoutMs: number }): Promise<HttpsListener> {
  const protocols = alpnProtocols(config);
  const frontEnds: FrontEnds = {
    spdy: config.spdy ? createSpdyFrontEnd(app, { tuning: config.spdyTuning, idleTimeoutMs: options.idleTimeoutMs }) : undefined,
    http2: config.h2 ? createHttp2FrontEnd(app, { secure: true, idleTimeoutMs: options.idleTimeoutMs, maxConcurrentStreams: config.spdyTuning.maxConcurrentStreams }) : undefined,
    http1: createHttp1FrontEnd(app, { secure: true, idleTimeoutMs: options.idleTimeoutMs }),
  };
  const server: TlsServer = createTlsServer({
    cert: config.cert,
    key: config.key,
    ciphers: config.ciphers,
    ca: config.clientCa,
    // clientca=: only clients with a certificate that CA signed get through the handshake.
    requestCert: config.clientCa !== undefined,
    rejectUnauthorized: config.clientCa !== undefined,
    ALPNProtocols: protocols,
    // A handshake that never completes must not hold a socket forever.
    handshakeTimeout: Math.min(options.idleTimeoutMs, 30_000),
  });
  const sockets = new Set<TLSSocket>();
  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    dispatch(socket, frontEnds);
  });
  server.on('tlsClientError', (error, socket) => {
    trace?.(`handshake with ${socket.remoteAddress}:${socket.remotePort} failed: ${error.message}`);
    socket.destroy();
  });

  await bind(server, config.addr, '--https2', config.source);

  return {
    config,
    protocols,
    address: server.address() as AddressInfo,
    close() {
      return closeGracefully(server, sockets, CLOSE_GRACE_MS, () => {
        frontEnds.spdy?.close();
        frontEnds.http2?.close();
        frontEnds.http1.close();
      });
    },
  };
}
