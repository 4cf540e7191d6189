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
import { listenerPlans, startListener, withBoundHttpsPort } from './listen/handlers.ts';
import { ServedCertificates, watchTouchCerts } from './listen/served-certificates.ts';
import { logLine } from './log.ts';
import { startObservation, type Observation } from './observe/observation.ts';
import { startStatsServers, type StatsServers } from './observe/stats-server.ts';
import { startManagedPython, type ManagedPython } from './wsgi/managed-python.ts';

export interface RunningServer {
  readonly listeners: readonly { readonly scheme: 'https' | 'http' | 'uwsgi'; readonly listener: Listener }[];
  /** Reopens the log files (SIGHUP: logrotate moved them). */
  reopenLogs(): void;
  /** Reads every certificate, key and CA again (SIGHUP, --touch-certs); open connections keep theirs. */
  reloadCertificates(): Promise<void>;
  /** A Python app's SIGHUP: new uWSGI workers, then the old ones finish (the logs reopen too). */
  reload?(): void;
  close(): Promise<void>;
}

/**
 * What serves requests: the --module's app, or a router forwarding to --http-to backends, whose
 * state `observation` reports. (Observation.wrap goes around it per listener, outside the edge:
 * handlers.ts.)
 */
export async function createApp(config: SpryConfig, observation?: Observation): Promise<App> {
  if (config.upstream !== undefined) {
    const balancer = new Balancer(config.upstream.nodes, config.upstream.gracetimeMs);
    observation?.reportBackends(() => balancer.nodes.map((node) => ({ label: node.label, state: node.deadUntil > Date.now() ? 'dead' : 'alive', failures: node.failures, outstanding: node.outstanding })));
    const limitPost = config.tuning.limitPostBytes;
    return forwardingApp(balancer, {
      timeoutMs: config.httpTimeoutMs,
      extraVars: config.upstream.vars,
      ...(limitPost > 0 ? { heldBodyMaxBytes: limitPost } : {}),
      ...(config.upstream.respawnWaitMs === undefined ? {} : { respawnWaitMs: config.upstream.respawnWaitMs }),
    });
  }
  if (config.module === undefined) throw new ConfigError('--module', 'an app is required (--module PATH:EXPORT)');
  return loadApp(config.module);
}

/** How the startup log names what is served. */
export function describeApp(config: SpryConfig): string {
  if (config.python !== undefined) return `wsgi app ${config.python.source}`;
  if (config.upstream !== undefined) return `forwarding to ${config.upstream.nodes.map((node) => (node.kind === 'uwsgi-unix' ? node.path : `${node.kind === 'http' ? 'http://' : ''}${node.host}:${node.port}`)).join(', ')}`;
  return `app ${config.module?.source ?? ''}`;
}

export async function startServer(given: SpryConfig): Promise<RunningServer> {
  // Before the app loads: it may read the cache at import time.
  installLocalCaches(given.caches);
  // A Python app's uWSGI workers accept before any listener does.
  const python: ManagedPython | undefined = await startManagedPython(given);
  const config = python?.config ?? given;
  const observation = startObservation(config.observe, 1);
  const listeners: { scheme: 'https' | 'http' | 'uwsgi'; listener: Listener }[] = [];
  let statsServers: StatsServers | undefined;
  const certificates = new ServedCertificates(config);
  let app: App;
  try {
    app = await createApp(config, observation);
    // --https2 listeners come first: once the first is bound, --http-to-https knows its port.
    let plans = listenerPlans(config, certificates);
    for (let i = 0; i < plans.length; i++) {
      const listener = await startListener(plans[i], app, config.httpTimeoutMs, config.unixSockets, certificates, observation.wrap);
      listeners.push({ scheme: plans[i].spec.kind, listener });
      const bound = i === 0 ? withBoundHttpsPort(config, listener.address) : config;
      if (bound !== config) plans = listenerPlans(bound, certificates);
    }
    if (config.observe !== undefined) statsServers = await startStatsServers(config.observe, async () => observation.snapshot());
  } catch (error) {
    await Promise.all(listeners.map(({ listener }) => listener.close()));
    observation.close();
    await python?.stop();
    throw error;
  }
  forgetSocketActivation();
  for (const { scheme, listener } of listeners) {
    logLine(`serving ${config.upstream === undefined ? `${app.style} ` : ''}${describeApp(config)} on ${describeBound(scheme, listener.address)} (${listener.protocols.join(', ')})`);
  }
  const reloadCertificates = async (): Promise<void> => {
    await certificates.reload();
  };
  const unwatch = watchTouchCerts(config.sni?.touchCerts ?? [], () => void reloadCertificates());
  return {
    listeners,
    reopenLogs: () => observation.reopen(),
    reloadCertificates,
    ...(python === undefined ? {} : {
      reload: () => {
        observation.reopen();
        void reloadCertificates();
        void python.reload();
      },
    }),
    async close() {
      unwatch();
      await statsServers?.close();
      await Promise.all(listeners.map(({ listener }) => listener.close()));
      observation.close();
      await python?.stop();
    },
  };
}
