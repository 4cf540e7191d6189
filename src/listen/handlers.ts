// The one place that turns listener settings into ConnectionHandlers. The single-process server,
// a master's workers and createServer all build their handlers here, and listenerPlans() is the
// one list of a config's listeners, in the order the master binds them and workers number them.

import type { AddressInfo, Server } from 'node:net';
import type { Server as TlsServer, TlsOptions } from 'node:tls';
import type { App } from '../apps/app.ts';
import type { Https2ListenerConfig, HttpListenerConfig, ListenAddress, SpryConfig, StreamTuning, UnixSocketConfig } from '../config/config.ts';
import { createPushPlanner } from '../push/push-planner.ts';
import { alpnProtocols, shownProtocols, type FrontEndOptions, type ProtocolId } from './alpn.ts';
import { bind, DEFAULT_CLOSE_GRACE_MS } from './bind.ts';
import type { ConnectionHandler, Listener } from './connection-handler.ts';
import { attachHttpHandler, createHttpHandler } from './http-listener.ts';
import { attachHttpsHandler, createHttpsHandler, tlsOptionsFor } from './https-listener.ts';
import type { ServedCertificates } from './served-certificates.ts';
import { createUwsgiHandler } from './uwsgi-listener.ts';
import { edgeApp } from '../edge/edge-app.ts';
import type { EdgeOptions } from '../edge/edge-options.ts';

/** What a handler serves, whatever accepts its connections. */
export type HandlerSpec =
  | { readonly kind: 'https'; readonly tls: TlsOptions; readonly protocols: readonly ProtocolId[]; readonly push: boolean; readonly pushCache?: string; readonly tuning: StreamTuning; readonly edge?: EdgeOptions }
  | { readonly kind: 'http'; readonly protocols: readonly ProtocolId[]; readonly push: boolean; readonly pushCache?: string; readonly tuning: StreamTuning; readonly edge?: EdgeOptions }
  | { readonly kind: 'uwsgi'; readonly tuning: StreamTuning; readonly edge?: EdgeOptions };

/** One listener of a config: where it binds, how it was written, and what it serves. */
export interface ListenerPlan {
  readonly option: '--https2' | '--http' | '--socket';
  readonly source: string;
  readonly addr: ListenAddress;
  readonly spec: HandlerSpec;
}

/** --http listeners: HTTP/1.1, and h2c with prior knowledge. */
const PLAIN_PROTOCOLS: readonly ProtocolId[] = ['http/1.1', 'h2'];

/** Every --https2, then every --http, then every --socket; TLS ones choose by SNI from `certificates`. */
export function listenerPlans(config: SpryConfig, certificates?: ServedCertificates): ListenerPlan[] {
  return [
    ...config.https2.map((listener) => httpsPlan(listener, edgeOptionsFor(config, 'https'), certificates)),
    ...config.http.map((listener) => httpPlan(listener, config.tuning, edgeOptionsFor(config, 'http'))),
    ...config.uwsgi.map((listener): ListenerPlan => ({ option: '--socket', source: listener.source, addr: listener.addr, spec: { kind: 'uwsgi', tuning: config.tuning, ...edgeField(edgeOptionsFor(config, 'uwsgi')) } })),
  ];
}

/** What the edge does on a listener of `kind`: HSTS only over TLS, the redirect only on --http. */
function edgeOptionsFor(config: SpryConfig, kind: HandlerSpec['kind']): EdgeOptions | undefined {
  const edge = config.edge;
  if (edge === undefined) return undefined;
  return {
    ...(edge.staticFiles === undefined ? {} : { staticFiles: edge.staticFiles }),
    ...(edge.harakiriMs === undefined ? {} : { harakiriMs: edge.harakiriMs }),
    ...(edge.hstsSeconds === undefined || kind !== 'https' ? {} : { hstsSeconds: edge.hstsSeconds }),
    ...(edge.httpsPort === undefined || kind !== 'http' ? {} : { httpsPort: edge.httpsPort }),
  };
}

function edgeField(edge: EdgeOptions | undefined): { edge?: EdgeOptions } {
  return edge === undefined ? {} : { edge };
}

export function httpsPlan(listener: Https2ListenerConfig, edge?: EdgeOptions, certificates?: ServedCertificates): ListenerPlan {
  const SNICallback = certificates?.sniCallback;
  const spec: HandlerSpec = {
    kind: 'https',
    tls: { ...tlsOptionsFor(listener), ...(SNICallback === undefined ? {} : { SNICallback }) },
    protocols: alpnProtocols(listener),
    push: listener.push,
    ...(listener.pushCache === undefined ? {} : { pushCache: listener.pushCache }),
    tuning: listener.tuning,
    ...edgeField(edge),
  };
  return { option: '--https2', source: listener.source, addr: listener.addr, spec };
}

/** h2c clients get pushes from the default cache, as h2 ones on --https2 do. */
export function httpPlan(listener: HttpListenerConfig, tuning: StreamTuning, edge?: EdgeOptions): ListenerPlan {
  return { option: '--http', source: listener.source, addr: listener.addr, spec: { kind: 'http', protocols: PLAIN_PROTOCOLS, push: true, tuning, ...edgeField(edge) } };
}

/**
 * The outermost layer of what a listener serves (the access log, stats and metrics:
 * Observation.wrap): outside the edge, so static files, 413s, 504s and redirects are logged and
 * counted like the app's answers.
 */
export type OuterLayer = (app: App) => App;

/**
 * The handler for `spec`, on a server of its own, or on `server` when given (createServer's,
 * made by the caller with the matching options: tlsServerOptions for TLS).
 */
export function createHandler(spec: HandlerSpec, plainApp: App, idleTimeoutMs: number, server?: Server, outer?: OuterLayer): ConnectionHandler {
  const edged = edgeApp(plainApp, spec.edge, spec.tuning.limitPostBytes);
  const app = outer === undefined ? edged : outer(edged);
  switch (spec.kind) {
    case 'https': {
      const options = frontEndOptions(spec, idleTimeoutMs);
      return server === undefined ? createHttpsHandler(spec.protocols, spec.tls, app, options) : attachHttpsHandler(server as TlsServer, spec.protocols, app, options);
    }
    case 'http': {
      const options = frontEndOptions(spec, idleTimeoutMs);
      return server === undefined ? createHttpHandler(spec.protocols, app, options) : attachHttpHandler(server, spec.protocols, app, options);
    }
    case 'uwsgi':
      return createUwsgiHandler(app, { idleTimeoutMs, tuning: spec.tuning });
  }
}

/** What a listener of `spec` offers, as the startup log names it. */
export function protocolsOf(spec: HandlerSpec): readonly string[] {
  return spec.kind === 'uwsgi' ? ['uwsgi'] : shownProtocols(spec.protocols, spec.kind === 'http');
}

/** Binds a plan's handler where the plan says: a Listener that closes gracefully. */
export async function startListener(plan: ListenerPlan, app: App, idleTimeoutMs: number, unix?: UnixSocketConfig, certificates?: ServedCertificates, outer?: OuterLayer): Promise<Listener> {
  const handler = servedHandler(plan, app, idleTimeoutMs, certificates, outer);
  await bind(handler.server, plan.addr, plan.option, plan.source, unix);
  return {
    protocols: handler.protocols,
    address: handler.server.address() as AddressInfo | string,
    close(graceMs = DEFAULT_CLOSE_GRACE_MS) {
      handler.server.close();
      return handler.drain(graceMs);
    },
  };
}

/**
 * --http-to-https names the first --https2 port, read from the config; `addr=…:0` is known only
 * once bound, so the config is given the port `address` (that listener's) actually has.
 */
export function withBoundHttpsPort(config: SpryConfig, address: AddressInfo | string | null | undefined): SpryConfig {
  const edge = config.edge;
  if (edge?.httpsPort !== 0 || address === null || address === undefined || typeof address === 'string') return config;
  return { ...config, edge: { ...edge, httpsPort: address.port } };
}

/** Handlers in listenerPlans() order; their TLS servers are the ones `certificates` reloads. */
export function createHandlers(config: SpryConfig, app: App, certificates?: ServedCertificates, outer?: OuterLayer): ConnectionHandler[] {
  return listenerPlans(config, certificates).map((plan) => servedHandler(plan, app, config.httpTimeoutMs, certificates, outer));
}

function servedHandler(plan: ListenerPlan, app: App, idleTimeoutMs: number, certificates: ServedCertificates | undefined, outer: OuterLayer | undefined): ConnectionHandler {
  const handler = createHandler(plan.spec, app, idleTimeoutMs, undefined, outer);
  if (plan.spec.kind === 'https') certificates?.serve(handler.server as TlsServer);
  return handler;
}

function frontEndOptions(spec: { readonly push: boolean; readonly pushCache?: string; readonly tuning: StreamTuning; readonly edge?: EdgeOptions }, idleTimeoutMs: number): FrontEndOptions {
  return { idleTimeoutMs, tuning: spec.tuning, ...(spec.push ? { pushPlanner: createPushPlanner(spec.pushCache, spec.edge?.staticFiles) } : {}) };
}
