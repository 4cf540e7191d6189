// Placeholder until the listeners land: the real startServer binds every --https2 listener,
// loads the --module and returns a handle whose close() drains and stops them.

import type { SpryConfig } from './config/config.ts';

export interface RunningServer {
  close(): Promise<void>;
}

export async function startServer(config: SpryConfig): Promise<RunningServer> {
  void config;
  throw new Error('startServer: not implemented');
}
