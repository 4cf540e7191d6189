// A TLS listener (--https2, or createServer with TLS options): the ALPN dispatcher hands each
// handshaken connection to HTTP/2, SPDY or HTTP/1.1, all serving the same app.

import { Server as TlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import type { App } from '../apps/app.ts';
import type { Https2ListenerConfig } from '../config/config.ts';
import { connectionInfo } from '../exchange/connection-info.ts';
import { tracer } from '../log.ts';
import { createFrontEnds, dispatch, eachFrontEnd, type FrontEndOptions, type ProtocolId } from './alpn.ts';
import { ConnectionSet, type ConnectionHandler } from './connection-handler.ts';

const trace = tracer('tls');

/** The longest a handshake may take before its socket is dropped. */
const MAX_HANDSHAKE_MS = 30_000;

/** The TLS server options a --https2 listener's keys stand for. */
export function tlsOptionsFor(config: Https2ListenerConfig): TlsOptions {
  return {
    cert: config.cert,
    key: config.key,
    ciphers: config.ciphers,
    ca: config.clientCa,
    // clientca=: only clients with a certificate that CA signed get through the handshake.
    requestCert: config.clientCa !== undefined,
    rejectUnauthorized: config.clientCa !== undefined,
  };
}

/** What node:tls needs besides the certificates: the ALPN list, and a bound on handshakes. */
export function tlsServerOptions(tls: TlsOptions, protocols: readonly ProtocolId[], idleTimeoutMs: number): TlsOptions {
  return {
    ...tls,
    ALPNProtocols: [...protocols],
    // A handshake that never completes must not hold a socket forever.
    handshakeTimeout: Math.min(idleTimeoutMs > 0 ? idleTimeoutMs : MAX_HANDSHAKE_MS, MAX_HANDSHAKE_MS),
  };
}

/** Serves TLS connections on `server`, which was made with tlsServerOptions(…, protocols, …). */
export function attachHttpsHandler(server: TlsServer, protocols: readonly ProtocolId[], app: App, options: FrontEndOptions): ConnectionHandler {
  const frontEnds = createFrontEnds(protocols, app, options);
  const connections = new ConnectionSet();
  server.on('connection', (socket) => connections.add(socket));
  server.on('secureConnection', (socket: TLSSocket) => dispatch(socket, frontEnds, connectionInfo(socket, true), socket.alpnProtocol));
  server.on('tlsClientError', (error, socket) => {
    trace?.(`handshake with ${socket.remoteAddress}:${socket.remotePort} failed: ${error.message}`);
    socket.destroy();
  });
  return connections.handler(server, protocols, eachFrontEnd(frontEnds));
}

export function createHttpsHandler(protocols: readonly ProtocolId[], tls: TlsOptions, app: App, options: FrontEndOptions): ConnectionHandler {
  return attachHttpsHandler(new TlsServer(tlsServerOptions(tls, protocols, options.idleTimeoutMs)), protocols, app, options);
}
