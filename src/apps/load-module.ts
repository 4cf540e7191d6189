// Loads `--module PATH:EXPORT` and decides how to run the export:
//  - an object with a `fetch` method (a Hono app), or a function of one parameter: fetch style;
//  - an object with a `callback()` method (a Koa app): its Node listener;
//  - an http.Server or https.Server the module made: its 'request' listeners (its listen() is
//    never called), and a Fastify instance: its server's, once ready();
//  - any other function (an Express app, a plain `(req, res)` handler): a Node listener.
// With no EXPORT, `default` is tried, then `app`. A Node listener's module may also export
// `upgrade(req, socket, head)`, node:http's 'upgrade' listener, for WebSockets.

import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RequestListener } from 'node:http';
import { SpryError } from '../errors.ts';
import type { RequestHead } from '../exchange/exchange.ts';
import { logLine } from '../log.ts';
import { describeRequest } from '../observe/access-record.ts';
import { currentObservation } from '../observe/observation.ts';
import type { App } from './app.ts';
import { type FetchHandler, fetchHandlerApp } from './fetch-handler.ts';
import { nodeListenerApp } from './node-listener.ts';
import type { EventEmitter } from 'node:events';
import type { UpgradeHandler } from './app.ts';
import { upgradeHandler, type UpgradeListener } from './upgrade.ts';
import { describeLoadFailure } from './load-failure.ts';
import { fastifyListener, isFastifyLike, isNodeServer, requestListenersOf } from './server-listeners.ts';

export interface ModuleSpec {
  readonly path: string;
  readonly exportName?: string;
  readonly source: string;
}

export async function loadApp(spec: ModuleSpec): Promise<App> {
  const specifier = spec.path.startsWith('file:') || !looksLikePath(spec.path) ? spec.path : pathToFileURL(resolve(spec.path)).href;
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    // One line for the cause, then the place as indented lines (main prints them as they are).
    const { reason, frames } = describeLoadFailure(error);
    throw new SpryError('SPRY_ERR_APP_LOAD', [`--module ${spec.source}: cannot load ${spec.path} (${reason})`, ...frames.map((frame) => `    ${frame}`)].join('\n'));
  }
  const names = spec.exportName !== undefined ? [spec.exportName] : ['default', 'app'];
  const name = names.find((candidate) => namespace[candidate] !== undefined);
  if (name === undefined) {
    const available = Object.keys(namespace).join(', ') || 'none';
    throw new SpryError('SPRY_ERR_APP_LOAD', `--module ${spec.source}: no export named ${names.join(' or ')} (exports: ${available})`);
  }
  const value = namespace[name];
  // Fastify loads its plugins in ready(): a failure there is a load failure, reported now.
  if (isFastifyLike(value)) {
    try {
      await value.ready();
    } catch (error) {
      throw new SpryError('SPRY_ERR_APP_LOAD', `--module ${spec.source}: the Fastify app failed to get ready (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  const app = appFromExport(value, `${spec.source}`);
  // A plain listener's module may take upgrades (WebSockets) with an `upgrade` export of its own.
  const upgrade = namespace.upgrade;
  if (app.upgrade !== undefined || typeof upgrade !== 'function' || app.style !== 'node-listener') return app;
  return { ...app, upgrade: upgradeHandler(() => [upgrade as UpgradeListener], reportAppError) };
}

/** The 'upgrade' listeners a server has at the time of each upgrade. */
export function upgradeListenersOf(server: EventEmitter): UpgradeHandler {
  return upgradeHandler(() => server.listeners('upgrade') as UpgradeListener[], reportAppError);
}

export function appFromExport(value: unknown, source: string): App {
  if (isNodeServer(value)) return nodeListenerApp(requestListenersOf(value), reportAppError, upgradeListenersOf(value));
  if (isFastifyLike(value)) return nodeListenerApp(fastifyListener(value), reportAppError, upgradeListenersOf(value.server));
  if (typeof value === 'object' && value !== null) {
    const candidate = value as { fetch?: unknown; callback?: unknown };
    if (typeof candidate.fetch === 'function') {
      const fetch = candidate.fetch as FetchHandler;
      return fetchHandlerApp((request, env) => fetch.call(value, request, env), reportAppError);
    }
    if (typeof candidate.callback === 'function') {
      return nodeListenerApp((candidate.callback as () => RequestListener).call(value), reportAppError);
    }
  }
  if (typeof value === 'function') {
    if (value.length === 1) return fetchHandlerApp(value as FetchHandler, reportAppError);
    return nodeListenerApp(value as RequestListener, reportAppError);
  }
  throw new SpryError('SPRY_ERR_APP_LOAD', `--module ${source}: the export is a ${typeof value}, not a request listener, fetch handler, http.Server or Fastify app`);
}

function looksLikePath(path: string): boolean {
  return path.startsWith('.') || isAbsolute(path) || /\.[cm]?[jt]s$/.test(path);
}

export function reportAppError(error: unknown, head: RequestHead): void {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  currentObservation()?.observer?.appFailed();
  logLine(`app error on ${describeRequest(head)}: ${detail}`);
}
