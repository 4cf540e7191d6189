// socket.io as its docs show it (`new Server(httpServer)`) on a createServer server, reached by
// socket.io-client over its websocket transport and over HTTP long-polling, on one process.

import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Server } from 'socket.io';
import { io as connectIo, type Socket } from 'socket.io-client';
import { createServer, type SpryServer } from '../../src/index.ts';

describe('socket.io on a plain and on a TLS createServer server', () => {
  const servers: { name: string; server: SpryServer; io: Server; origin: string }[] = [];
  before(async () => {
    for (const [name, options, scheme] of [['plain', { plain: true }, 'http'], ['TLS', {}, 'https']] as const) {
      const server = createServer(options, (_req, res) => res.end('page'));
      const io = new Server(server);
      io.on('connection', (socket) => {
        socket.on('ping-me', (text: string, reply: (answer: string) => void) => reply(`pong ${text} via ${socket.conn.transport.name}`));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push({ name, server, io, origin: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}` });
    }
  });
  after(async () => {
    for (const { io } of servers) await new Promise((resolve) => io.close(resolve));
  });

  for (const transport of ['websocket', 'polling'] as const) {
    for (const index of [0, 1]) {
      it(`round-trips an acknowledged event over ${transport} (server ${index === 0 ? 'plain' : 'TLS'})`, async () => {
        const { origin } = servers[index];
        const client: Socket = connectIo(origin, { transports: [transport], rejectUnauthorized: false, reconnection: false, forceNew: true });
        try {
          await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('connect_error', reject));
          const answer = await new Promise<string>((resolve) => client.emit('ping-me', 'hi', resolve));
          assert.equal(answer, `pong hi via ${transport}`);
        } finally {
          client.close();
        }
      });
    }
  }

  it('serves the app beside socket.io: its own requests still reach the app', async () => {
    const response = await fetch(`${servers[0].origin}/`);
    assert.equal(await response.text(), 'page');
  });
});
