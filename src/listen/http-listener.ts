// A plain listener (--http, or createServer with `plain: true`): HTTP/1.1, and HTTP/2 for
// clients that open with the h2c connection preface (prior knowledge); plain SPDY too where
// offered. Telling them apart costs one look at the first bytes; no upgrade dance.

import { Server, type Socket } from 'node:net';
import type { App } from '../apps/app.ts';
import { connectionInfo } from '../exchange/connection-info.ts';
import { createFrontEnds, dispatch, eachFrontEnd, shownProtocols, sniffProtocol, type FrontEndOptions, type FrontEnds, type ProtocolId } from './alpn.ts';
import { ConnectionSet, type ConnectionHandler } from './connection-handler.ts';

/** Serves plain connections on `server`, speaking what the first bytes say of `protocols`. */
export function attachHttpHandler(server: Server, protocols: readonly ProtocolId[], app: App, options: FrontEndOptions): ConnectionHandler {
  const frontEnds = createFrontEnds(protocols, app, options);
  const connections = new ConnectionSet();
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    sniff(socket, protocols, frontEnds);
  });
  return connections.handler(server, shownProtocols(protocols, true), eachFrontEnd(frontEnds));
}

export function createHttpHandler(protocols: readonly ProtocolId[], app: App, options: FrontEndOptions): ConnectionHandler {
  return attachHttpHandler(new Server(), protocols, app, options);
}

/** Reads until the first bytes tell the protocol, puts them back, and dispatches. */
function sniff(socket: Socket, offered: readonly ProtocolId[], frontEnds: FrontEnds): void {
  let seen: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const protocol = sniffProtocol(seen, offered);
    if (protocol === undefined) return; // could still be either: wait for more
    socket.off('data', onData);
    socket.pause();
    socket.unshift(seen);
    // node:http2 takes the bytes already read from the socket's buffer itself; node:http and
    // SPDY listen for 'data' but do not undo our pause().
    dispatch(socket, frontEnds, connectionInfo(socket, false), protocol);
    if (protocol !== 'h2') socket.resume();
  };
  socket.on('data', onData);
}
