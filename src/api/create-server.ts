// createServer(options, app): spry as a library. One listener's worth of spry — TLS with ALPN
// (h2, spdy/3.1, spdy/3, spdy/2, http/1.1) or, plain, HTTP/1.1, h2c and plain SPDY — serving an
// app of any style --module takes, on a server that behaves like http.Server. node-spdy's
// `spdy.createServer(options, app)` calls work with only the import changed.

import type { RequestListener } from 'node:http';
import type { App } from '../apps/app.ts';
import { appFromExport, reportAppError, upgradeListenersOf } from '../apps/load-module.ts';
import { nodeListenerApp } from '../apps/node-listener.ts';
import { fastifyListener, isFastifyLike, isNodeServer, requestListenersOf, type FastifyLike } from '../apps/server-listeners.ts';
import { installLocalCaches } from '../cache/registry.ts';
import { createHandler } from '../listen/handlers.ts';
import { tlsServerOptions } from '../listen/https-listener.ts';
import { planServer, type ServerOptions } from './server-options.ts';
import { SpryPlainServer, SpryTlsServer, type SpryServer } from './spry-server.ts';

/** A fetch-style handler: `(request) => Response`, the environment as a second argument. */
export type FetchHandler = (request: Request, env: Record<string, string>) => Response | Promise<Response>;

/** Whatever --module accepts as an app. */
export type AppLike =
  | RequestListener
  | FetchHandler
  | { fetch(request: Request, env?: any): Response | Promise<Response> }
  | { callback(): RequestListener }
  | import('node:http').Server
  | import('node:https').Server
  | FastifyLike;

// The RequestListener overloads come first, so that `(req, res) => …` gets its parameter types.
export function createServer(app?: RequestListener): SpryServer;
export function createServer(app?: AppLike): SpryServer;
export function createServer(options: ServerOptions, app?: RequestListener): SpryServer;
export function createServer(options: ServerOptions, app?: AppLike): SpryServer;
export function createServer(first?: ServerOptions | AppLike, second?: AppLike): SpryServer {
  const [options, app] = second !== undefined || first === undefined || isOptions(first) ? [(first ?? {}) as ServerOptions, second] : [{}, first as AppLike];
  const plan = planServer(options);
  if (plan.caches !== undefined) installLocalCaches(plan.caches);
  const server: SpryTlsServer | SpryPlainServer =
    plan.spec.kind === 'https' ? new SpryTlsServer(tlsServerOptions(plan.spec.tls, plan.spec.protocols, plan.idleTimeoutMs)) : new SpryPlainServer();
  server.handler = createHandler(plan.spec, appFor(server, app), plan.idleTimeoutMs, server);
  return server;
}

/**
 * Node-style apps become 'request' listeners of the server, as with http.createServer, and
 * spry serves the server's listeners; fetch handlers and Hono apps are served as they are.
 */
function appFor(server: SpryServer, app: AppLike | undefined): App {
  const listener = nodeListenerOf(app);
  if (listener !== undefined) server.on('request', listener);
  // Upgrades (WebSockets) go to the server's own 'upgrade' listeners: new WebSocketServer({ server }).
  if (listener !== undefined || app === undefined) return nodeListenerApp(requestListenersOf(server), reportAppError, upgradeListenersOf(server));
  return appFromExport(app, 'createServer');
}

function nodeListenerOf(app: AppLike | undefined): RequestListener | undefined {
  if (app === undefined) return undefined;
  if (isNodeServer(app)) return requestListenersOf(app);
  if (isFastifyLike(app)) return fastifyListener(app);
  if (typeof app === 'object' && typeof (app as { fetch?: unknown }).fetch !== 'function' && typeof (app as { callback?: unknown }).callback === 'function') {
    return (app as { callback(): RequestListener }).callback();
  }
  // A function of one parameter is a fetch handler (the rule --module follows).
  if (typeof app === 'function' && app.length !== 1) return app as RequestListener;
  return undefined;
}

/** The first argument is options unless it looks like an app. */
function isOptions(value: ServerOptions | AppLike): value is ServerOptions {
  if (typeof value === 'function' || isNodeServer(value) || isFastifyLike(value)) return false;
  const candidate = value as { fetch?: unknown; callback?: unknown };
  return typeof candidate.fetch !== 'function' && typeof candidate.callback !== 'function';
}
