// Binding a listener, with the one-line error a user sees when the address is unusable: a TCP
// address, a unix socket path (a stale socket file from a dead process is replaced; a live one,
// or another kind of file, is an error), a Linux abstract socket, or an inherited descriptor
// (systemd socket activation). Unix socket files get --chmod-socket's mode and --chown-socket's
// owner once bound, and --vacuum removes them when the process exits.

import { chmodSync, chownSync, lstatSync, rmSync, unlinkSync } from 'node:fs';
import { connect, type AddressInfo, type Server } from 'node:net';
import type { ListenAddress, UnixSocketConfig } from '../config/config.ts';
import { ConfigError } from '../errors.ts';

const NO_UNIX_OPTIONS: UnixSocketConfig = { vacuum: false };

export async function bind(server: Server, addr: ListenAddress, option: string, source: string, unix: UnixSocketConfig = NO_UNIX_OPTIONS): Promise<void> {
  switch (addr.kind) {
    case 'shared':
      throw new ConfigError(option, `${source}: =${addr.index} names no --shared-socket`);
    case 'tcp':
      return listen(server, { port: addr.port, host: addr.host }, option, `${source}: cannot listen on ${addr.host}:${addr.port}`);
    case 'fd': {
      const problem = activationProblem(addr.fd);
      if (problem !== undefined) throw new ConfigError(option, `${source}: ${problem}`);
      return listen(server, { fd: addr.fd }, option, `${source}: cannot listen on inherited descriptor ${addr.fd} (is it a listening socket? systemd passes them from 3 on, with LISTEN_FDS)`);
    }
    case 'unix': {
      const abstract = addr.path.startsWith('\0');
      if (!abstract) await removeStaleSocket(addr.path, option, source);
      await listen(server, { path: addr.path }, option, `${source}: cannot listen on ${abstract ? `@${addr.path.slice(1)}` : addr.path}`);
      if (abstract) return;
      try {
        if (unix.mode !== undefined) chmodSync(addr.path, unix.mode);
        if (unix.owner !== undefined) chownSync(addr.path, unix.owner.uid, unix.owner.gid);
      } catch (error) {
        server.close();
        throw new ConfigError(option, `${source}: cannot set the socket's mode or owner (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      }
      if (unix.vacuum) vacuumAtExit(addr.path);
      return;
    }
  }
}

function listen(server: Server, target: { port: number; host: string } | { fd: number } | { path: string }, option: string, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(new ConfigError(option, `${what} (${error.code ?? error.message})`));
    };
    server.once('error', onError);
    server.listen(target, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * systemd's socket activation (sd_listen_fds): LISTEN_PID names this process and LISTEN_FDS
 * counts the sockets passed from descriptor 3 on. Read once, at startup: forgetSocketActivation()
 * removes them from the environment once the listeners are bound, so that nothing spry starts
 * (workers, apps' children) takes them as its own.
 */
const activation = (() => {
  const pid = Number(process.env.LISTEN_PID);
  const count = Number(process.env.LISTEN_FDS);
  return pid === process.pid && Number.isInteger(count) && count > 0 ? { count } : undefined;
})();

const FIRST_ACTIVATED_FD = 3;

function activationProblem(fd: number): string | undefined {
  if (activation === undefined) return undefined; // inherited some other way: listen() will tell
  const last = FIRST_ACTIVATED_FD + activation.count - 1;
  if (fd < FIRST_ACTIVATED_FD || fd > last) return `systemd passed ${activation.count} socket(s), descriptors ${FIRST_ACTIVATED_FD}${last > FIRST_ACTIVATED_FD ? `-${last}` : ''}; fd://${fd} is not one of them`;
  return undefined;
}

export function forgetSocketActivation(): void {
  delete process.env.LISTEN_PID;
  delete process.env.LISTEN_FDS;
  delete process.env.LISTEN_FDNAMES;
}

/** A socket file nobody accepts on is a dead process's: it goes. Anything else at the path stays. */
async function removeStaleSocket(path: string, option: string, source: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new ConfigError(option, `${source}: ${path} exists and is not a socket`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new ConfigError(option, `${source}: cannot listen on ${path} (EADDRINUSE: a process is accepting on it)`);
  unlinkSync(path);
}

const vacuumed = new Set<string>();

/** --vacuum: `path` is removed when the process exits, however it exits short of a signal kill. */
export function vacuumAtExit(path: string): void {
  if (vacuumed.size === 0) process.once('exit', () => {
    for (const file of vacuumed) {
      try {
        rmSync(file, { force: true });
      } catch {
        // Not ours to remove any more (privileges dropped since): nothing to be done at exit.
      }
    }
  });
  vacuumed.add(path);
}

/**
 * Where a bound server listens, as the startup log says it: `scheme://host:port`, or
 * `scheme+unix:/path` (and `scheme+unix:@name`) for a unix socket.
 */
export function describeBound(scheme: string, address: AddressInfo | string | null): string {
  if (typeof address === 'string') return `${scheme}+unix:${address.startsWith('\0') ? `@${address.slice(1)}` : address}`;
  if (address === null) return `${scheme}://(not listening)`;
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  return `${scheme}://${host}:${address.port}`;
}

/** How long a graceful close waits for open connections before destroying them. */
export const DEFAULT_CLOSE_GRACE_MS = 10_000;
