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

/** Closes `server`, giving open connections `graceMs` to finish before they are destroyed. */
export function closeGracefully(server: Server, sockets: Set<{ destroy(): void }>, graceMs: number, beginDrain: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    beginDrain();
    const timer = setTimeout(() => {
      for (const socket of sockets) socket.destroy();
    }, graceMs);
    timer.unref();
  });
}
