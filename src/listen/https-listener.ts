// One --https2 listener: a TLS server whose connections the ALPN dispatcher hands to HTTP/2,
// SPDY or HTTP/1.1, all serving the same app.

import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { App } from '../apps/app.ts';
import type { Https2ListenerConfig } from '../config/config.ts';
import { createHttp1FrontEnd } from '../http1/front-end.ts';
import { createHttp2FrontEnd } from '../http2/front-end.ts';
import { tracer } from '../log.ts';
import { createPushPlanner } from '../push/push-planner.ts';
import { createSpdyFrontEnd } from '../spdy/front-end.ts';
import { alpnProtocols, dispatch, type FrontEnds } from './alpn.ts';
import { bind, DEFAULT_CLOSE_GRACE_MS } from './bind.ts';
import { ConnectionSet, type ConnectionHandler, type Listener } from './connection-handler.ts';

const trace = tracer('tls');

export function createHttpsHandler(config: Https2ListenerConfig, app: App, options: { idleTimeoutMs: number }): ConnectionHandler {
  const pushPlanner = config.push ? createPushPlanner(config.pushCache) : undefined;
  const shared = { idleTimeoutMs: options.idleTimeoutMs, tuning: config.tuning, ...(pushPlanner === undefined ? {} : { pushPlanner }) };
  const frontEnds: FrontEnds = {
    spdy: config.spdy ? createSpdyFrontEnd(app, shared) : undefined,
    http2: config.h2 ? createHttp2FrontEnd(app, { secure: true, ...shared }) : undefined,
    http1: createHttp1FrontEnd(app, { secure: true, ...shared }),
  };
  const protocols = alpnProtocols(config);
  const server = createTlsServer({
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
  const connections = new ConnectionSet();
  server.on('connection', (socket) => connections.add(socket));
  server.on('secureConnection', (socket: TLSSocket) => dispatch(socket, frontEnds));
  server.on('tlsClientError', (error, socket) => {
    trace?.(`handshake with ${socket.remoteAddress}:${socket.remotePort} failed: ${error.message}`);
    socket.destroy();
  });
  return {
    protocols,
    server,
    accept: (socket) => server.emit('connection', socket),
    drain(graceMs) {
      frontEnds.spdy?.close();
      frontEnds.http2?.close();
      frontEnds.http1.close();
      return connections.whenEmpty(graceMs);
    },
  };
}

export async function startHttpsListener(config: Https2ListenerConfig, app: App, options: { idleTimeoutMs: number }): Promise<Listener & { readonly config: Https2ListenerConfig }> {
  const handler = createHttpsHandler(config, app, options);
  await bind(handler.server, config.addr, '--https2', config.source);
  return boundListener(handler, config);
}

export function boundListener<C>(handler: ConnectionHandler, config: C): Listener & { readonly config: C } {
  return {
    config,
    protocols: handler.protocols,
    address: handler.server.address() as AddressInfo,
    close(graceMs = DEFAULT_CLOSE_GRACE_MS) {
      handler.server.close();
      return handler.drain(graceMs);
    },
  };
}
