// The facts of one client connection that every request on it shares: the addresses the
// environment reports (REMOTE_ADDR, SERVER_PORT, …) and whether it came over TLS. Taken once, by
// the listener that accepted the connection, and handed to the front end with the socket.

import type { Socket } from 'node:net';

export interface ConnectionInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** True on TLS listeners. */
  readonly secure: boolean;
}

export function connectionInfo(socket: Socket, secure: boolean): ConnectionInfo {
  return {
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
    secure,
  };
}
