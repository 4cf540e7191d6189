// Starts what a SpryConfig describes: loads the app, binds every listener, and returns a handle
// that closes them gracefully. Nothing is left bound if any step fails.

import type { App } from './apps/app.ts';
import { installLocalCaches } from './cache/registry.ts';
import { loadApp } from './apps/load-module.ts';
import { Balancer } from './upstream/balancer.ts';
import { forwardingApp } from './upstream/forwarding-app.ts';
import type { SpryConfig } from './config/config.ts';
import { ConfigError } from './errors.ts';
import type { Listener } from './listen/connection-handler.ts';
import { describeBound, forgetSocketActivation } from './listen/bind.ts';
import { listenerPlans, startListener } from './listen/handlers.ts';
import { logLine } from './log.ts';

export interface RunningServer {
  readonly listeners: readonly { readonly scheme: 'https' | 'http' | 'uwsgi'; readonly listener: Listener }[];
  close(): Promise<void>;
}

/** What serves requests: the --module's app, or a router forwarding to --http-to backends. */
export async function createApp(config: SpryConfig): Promise<App> {
  if (config.upstream !== undefined) {
    const balancer = new Balancer(config.upstream.nodes, config.upstream.gracetimeMs);
    return forwardingApp(balancer, { timeoutMs: config.httpTimeoutMs, extraVars: config.upstream.vars });
  }
  if (config.module === undefined) throw new ConfigError('--module', 'an app is required (--module PATH:EXPORT)');
  return loadApp(config.module);
}

/** How the startup log names what is served. */
export function describeApp(config: SpryConfig): string {
  if (config.upstream !== undefined) return `forwarding to ${config.upstream.nodes.map((node) => (node.kind === 'uwsgi-unix' ? node.path : `${node.kind === 'http' ? 'http://' : ''}${node.host}:${node.port}`)).join(', ')}`;
  return `app ${config.module?.source ?? ''}`;
}

export async function startServer(config: SpryConfig): Promise<RunningServer> {
  // Before the app loads: it may read the cache at import time.
  installLocalCaches(config.caches);
  const app = await createApp(config);
  const listeners: { scheme: 'https' | 'http' | 'uwsgi'; listener: Listener }[] = [];
  try {
    for (const plan of listenerPlans(config)) {
      listeners.push({ scheme: plan.spec.kind, listener: await startListener(plan, app, config.httpTimeoutMs, config.unixSockets) });
    }
  } catch (error) {
    await Promise.all(listeners.map(({ listener }) => listener.close()));
    throw error;
  }
  forgetSocketActivation();
  for (const { scheme, listener } of listeners) {
    logLine(`serving ${config.upstream === undefined ? `${app.style} ` : ''}${describeApp(config)} on ${describeBound(scheme, listener.address)} (${listener.protocols.join(', ')})`);
  }
  return {
    listeners,
    async close() {
      await Promise.all(listeners.map(({ listener }) => listener.close()));
    },
  };
}
