// The uwsgi front end (--socket): one request per connection, read as a uwsgi packet, served by
// the app, answered as HTTP/1.1. This is how nginx's uwsgi_pass and uWSGI's routers reach a
// spry-run app.

import { createServer, type Socket } from 'node:net';
import type { App } from '../apps/app.ts';
import type { StreamTuning } from '../config/config.ts';
import { setHighWaterMarks } from '../exchange/high-water-marks.ts';
import { connectionInfo } from '../http1/request-head.ts';
import { ConnectionSet, type ConnectionHandler } from '../listen/connection-handler.ts';
import { tracer } from '../log.ts';
import { UwsgiExchange } from './exchange.ts';
import { UwsgiRequestDecoder } from './packet.ts';

const trace = tracer('uwsgi');

export function createUwsgiHandler(app: App, options: { idleTimeoutMs: number; tuning: StreamTuning }): ConnectionHandler {
  const buffers = { writeBytes: options.tuning.writeBufferBytes, readBytes: options.tuning.readBufferBytes };
  const connections = new ConnectionSet();
  let draining = false;
  const server = createServer((socket: Socket) => {
    connections.add(socket);
    setHighWaterMarks(socket, buffers);
    if (options.idleTimeoutMs > 0) socket.setTimeout(options.idleTimeoutMs, () => socket.destroy());
    const decoder = new UwsgiRequestDecoder();
    const onData = (chunk: Buffer) => {
      let result;
      try {
        result = decoder.push(chunk);
      } catch (error) {
        trace?.(`${socket.remoteAddress}: ${(error as Error).message}`);
        socket.destroy();
        return;
      }
      if (!result.done) return;
      socket.off('data', onData);
      if (draining) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      app.serve(new UwsgiExchange(socket, result.request.vars, result.rest, connectionInfo(socket, false), buffers));
    };
    socket.on('data', onData);
    socket.on('error', () => {});
  });
  return {
    protocols: ['uwsgi'],
    server,
    accept: (socket) => server.emit('connection', socket),
    drain(graceMs) {
      draining = true;
      return connections.whenEmpty(graceMs);
    },
  };
}
