// Starts what a SpryConfig describes: loads the app, binds every listener, and returns a handle
// that closes them gracefully. Nothing is left bound if any step fails.

import { loadApp } from './apps/load-module.ts';
import { DEFAULTS, type SpryConfig } from './config/config.ts';
import { ConfigError } from './errors.ts';
import { startHttpListener } from './listen/http-listener.ts';
import { startHttpsListener } from './listen/https-listener.ts';
import type { Listener } from './listen/connection-handler.ts';
import { logLine } from './log.ts';


export interface RunningServer {
  readonly listeners: readonly { readonly scheme: 'https' | 'http'; readonly listener: Listener }[];
  close(): Promise<void>;
}

export async function startServer(config: SpryConfig): Promise<RunningServer> {
  if (config.module === undefined) throw new ConfigError('--module', 'an app is required (--module PATH:EXPORT)');
  const app = await loadApp(config.module);
  const listeners: { scheme: 'https' | 'http'; listener: Listener }[] = [];
  const idleTimeoutMs = config.httpTimeoutMs;
  try {
    for (const listener of config.https2) {
      listeners.push({ scheme: 'https', listener: await startHttpsListener(listener, app, { idleTimeoutMs }) });
    }
    for (const listener of config.http) {
      listeners.push({ scheme: 'http', listener: await startHttpListener(listener, app, { idleTimeoutMs, tuning: DEFAULTS.spdy }) });
    }
  } catch (error) {
    await Promise.all(listeners.map(({ listener }) => listener.close()));
    throw error;
  }
  for (const { scheme, listener } of listeners) {
    const { address, port } = listener.address;
    const host = address.includes(':') ? `[${address}]` : address;
    logLine(`serving ${app.style} app ${config.module.source} on ${scheme}://${host}:${port} (${listener.protocols.join(', ')})`);
  }
  return {
    listeners,
    async close() {
      await Promise.all(listeners.map(({ listener }) => listener.close()));
    },
  };
}
