// A --socket listener: the app served over the uwsgi protocol, one request per connection.

import { Server, type Socket } from 'node:net';
import type { App } from '../apps/app.ts';
import { connectionInfo } from '../exchange/connection-info.ts';
import { createUwsgiFrontEnd } from '../uwsgi/front-end.ts';
import type { FrontEndOptions } from './alpn.ts';
import { ConnectionSet, type ConnectionHandler } from './connection-handler.ts';
import { countConnection } from '../observe/counters.ts';

export function createUwsgiHandler(app: App, options: FrontEndOptions): ConnectionHandler {
  const server = new Server();
  const frontEnd = createUwsgiFrontEnd(app, options);
  const connections = new ConnectionSet();
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    countConnection(socket, 'uwsgi');
    frontEnd.accept(socket, connectionInfo(socket, false));
  });
  return connections.handler(server, ['uwsgi'], [frontEnd]);
}
