// Starts what a SpryConfig describes: loads the app, binds every listener, and returns a handle
// that closes them gracefully. Nothing is left bound if any step fails.

import { loadApp } from './apps/load-module.ts';
import type { SpryConfig } from './config/config.ts';
import { ConfigError } from './errors.ts';
import { type HttpsListener, startHttpsListener } from './listen/https-listener.ts';
import { logLine } from './log.ts';

export interface RunningServer {
  readonly listeners: readonly HttpsListener[];
  close(): Promise<void>;
}

export async function startServer(config: SpryConfig): Promise<RunningServer> {
  if (config.module === undefined) throw new ConfigError('--module', 'an app is required (--module PATH:EXPORT)');
  const app = await loadApp(config.module);
  const listeners: HttpsListener[] = [];
  try {
    for (const listener of config.https2) {
      listeners.push(await startHttpsListener(listener, app, { idleTimeoutMs: config.httpTimeoutMs }));
    }
  } catch (error) {
    await Promise.all(listeners.map((listener) => listener.close()));
    throw error;
  }
  for (const listener of listeners) {
    const { address, port } = listener.address;
    const host = address.includes(':') ? `[${address}]` : address;
    logLine(`serving ${app.style} app ${config.module.source} on https://${host}:${port} (${listener.protocols.join(', ')})`);
  }
  return {
    listeners,
    async close() {
      await Promise.all(listeners.map((listener) => listener.close()));
    },
  };
}
