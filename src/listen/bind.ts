// Binding a listener, with the one-line error a user sees when the address is unusable.

import type { Server } from 'node:net';
import type { ListenAddress } from '../config/config.ts';
import { ConfigError } from '../errors.ts';

export function bind(server: Server, addr: ListenAddress, option: string, source: string): Promise<void> {
  if (addr.kind !== 'tcp') return Promise.reject(new ConfigError(option, `${source}: shared sockets are not supported yet`));
  const { host, port } = addr;
  return new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(new ConfigError(option, `${source}: cannot listen on ${host}:${port} (${error.code ?? error.message})`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** How long a graceful close waits for open connections before destroying them. */
export const DEFAULT_CLOSE_GRACE_MS = 10_000;
