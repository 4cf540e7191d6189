// A Python app in spry's terms: its managed uWSGI workers started, and the configuration the
// rest of spry runs from — the forwarding app (src/upstream) with the workers' sockets as its
// backends, so every request reaches the app over the uwsgi protocol with the environment spry
// builds (SPDY, SPDY.version, SPDY.stream; HTTP2 markers). The single process and the master
// both start it here: the master after dropping privileges, so uWSGI runs as --uid/--gid.

import type { SpryConfig } from '../config/config.ts';
import { UwsgiWorkers } from './uwsgi-workers.ts';

/** The sockets never refuse (spry holds them): a failed connection is rare and short-lived. */
const MANAGED_GRACETIME_MS = 1000;

export interface ManagedPython {
  /** `config` with the workers as its --http-to backends. */
  readonly config: SpryConfig;
  readonly pids: () => number[];
  /** New uWSGI workers ready before the old ones finish their requests and exit. */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the Python app's uWSGI workers (`-p N`: N of them), or returns undefined for a Node app. */
export async function startManagedPython(config: SpryConfig): Promise<ManagedPython | undefined> {
  if (config.python === undefined) return undefined;
  const workers = await UwsgiWorkers.start(config.python, { count: config.processes.workers, mercyMs: config.processes.workerReloadMercyMs });
  return {
    config: {
      ...config,
      upstream: {
        nodes: workers.sockets.map((path) => ({ kind: 'uwsgi-unix', path })),
        gracetimeMs: MANAGED_GRACETIME_MS,
        vars: {},
        // A worker that died is respawned: requests wait for it as long as for an answer.
        respawnWaitMs: config.httpTimeoutMs,
      },
    },
    pids: () => workers.pids(),
    reload: () => workers.reload(),
    stop: () => workers.stop(),
  };
}
