// What the forwarding tests start the same way: a backend (node:http or a raw node:net server) on
// a loopback port of its own, and the steps that stop it and spry at the end of the file.

import { once } from 'node:events';
import type { Server as HttpServer } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import { after } from 'node:test';

/** Steps run in reverse order once every test of the file is done: whatever the file started, stopped. */
export function stepsAfterAll(): (step: () => unknown) => void {
  const steps: (() => unknown)[] = [];
  after(async () => {
    for (const step of steps.reverse()) await step();
  });
  return (step) => steps.push(step);
}

/**
 * Listens on 127.0.0.1 on a free port and resolves with it; `atEnd` gets the step that closes the
 * server, its open connections first (a kept-alive or stalled one would hold close() forever).
 */
export async function listenOnLoopback(server: HttpServer | NetServer, atEnd: (step: () => unknown) => void): Promise<number> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  atEnd(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((done) => server.close(done));
  });
  return (server.address() as { port: number }).port;
}
