// A connection to a backend behind the events of src/internals/stream-handles.ts: a bare handle
// for an IP address or a unix socket (a third of net.Socket's cost per connection), net.Socket
// for a host name, which it looks up. Both forwarding attempts (uwsgi-attempt.ts, and the
// kept-alive HTTP connections of http-backend-pool.ts) open theirs here.

import { connect, type Socket } from 'node:net';
import { handleReaches, HandleConnection, type ConnectionEvents, type HandleTarget } from '../internals/stream-handles.ts';
import { connectUwsgi } from './backend-requests.ts';
import type { BackendNode } from './balancer.ts';

/** The two ways to a backend: a bare handle, or net.Socket for a host name. */
export interface BackendConnection {
  readonly destroyed: boolean;
  write(chunk: Buffer): boolean;
  pause(): void;
  resume(): void;
  ref(): void;
  unref(): void;
  destroy(): void;
}

export function openConnection(address: BackendNode['address'], events: ConnectionEvents, noDelay: boolean): BackendConnection {
  const target = handleTargetOf(address);
  if (handleReaches(target)) return new HandleConnection(target, events, noDelay);
  return socketConnection(address.kind === 'http' ? connect(address.port, address.host) : connectUwsgi(address), events, noDelay);
}

function handleTargetOf(address: BackendNode['address']): HandleTarget {
  switch (address.kind) {
    case 'uwsgi-unix':
      return { path: address.path };
    case 'uwsgi':
      return { host: address.host, port: address.port };
    case 'http':
      return address.socketPath !== undefined ? { path: address.socketPath } : { host: address.host, port: address.port };
  }
}

/** net.Socket behind the same events, for a backend named by host name. */
function socketConnection(socket: Socket, events: ConnectionEvents, noDelay: boolean): BackendConnection {
  if (noDelay) socket.setNoDelay(true);
  socket.on('connect', () => events.connected());
  socket.on('data', (chunk: Buffer) => events.received(chunk));
  socket.on('end', () => events.ended());
  socket.on('drain', () => events.drained());
  socket.on('error', (error: NodeJS.ErrnoException) => {
    socket.destroy();
    events.failed(error);
  });
  return socket;
}
