// Scenario 6's floor for forwarding over uwsgi in Node: node:http's server and, per request, the
// least Node can do with a uwsgi backend — connect, one write of the vars block (the CGI
// variables a WSGI app needs, no more), read to the end, split the head from the body, answer,
// close. No retries, timeouts, backpressure or streaming: whatever spry costs above this is
// spry's; what this costs is Node's. Two ways to the backend: `net` (net.connect, a net.Socket
// per request) or `handle` (the bare handle spry uses, src/internals/stream-handles.ts).
// Usage: node bench/servers/node-uwsgi-forwarder.ts HOST:PORT|PATH net|handle; prints "listening PORT".

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { HandleConnection, type HandleTarget } from '../../src/internals/stream-handles.ts';
import { encodeUwsgiRequest } from '../../src/uwsgi/packet.ts';

const [target, mode = 'net'] = process.argv.slice(2);
const colon = target.lastIndexOf(':');
const where: HandleTarget = target.includes('/') ? { path: target } : { host: target.slice(0, colon), port: Number(target.slice(colon + 1)) };

/** The CGI variables a WSGI app needs, no more (spry's encoder: the floor is about connections). */
function packet(req: IncomingMessage): Buffer {
  const url = req.url ?? '/';
  const question = url.indexOf('?');
  return encodeUwsgiRequest({
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: question < 0 ? url : url.slice(0, question),
    QUERY_STRING: question < 0 ? '' : url.slice(question + 1),
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    SERVER_NAME: '127.0.0.1',
    SERVER_PORT: '80',
    REMOTE_ADDR: req.socket.remoteAddress ?? '',
    HTTP_HOST: req.headers.host ?? '',
  });
}

/** Answers `res` with the backend's whole response. */
function answer(res: ServerResponse, chunks: readonly Buffer[]): void {
  const whole = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  const split = whole.indexOf('\r\n\r\n');
  if (split < 0) return void res.destroy();
  const lines = whole.toString('latin1', 0, split).split('\r\n');
  const headers: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const at = lines[i].indexOf(':');
    headers.push(lines[i].slice(0, at), lines[i].slice(at + 1).trim());
  }
  res.writeHead(Number(lines[0].slice(9, 12)), headers);
  res.end(whole.subarray(split + 4));
}

function viaNet(req: IncomingMessage, res: ServerResponse): void {
  const socket = 'path' in where ? connect(where.path) : connect(where.port, where.host);
  const chunks: Buffer[] = [];
  socket.on('connect', () => socket.write(packet(req)));
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => res.destroy());
  socket.on('end', () => answer(res, chunks));
}

function viaHandle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  const connection: HandleConnection = new HandleConnection(where, {
    connected: () => connection.write(packet(req)),
    received: (chunk) => chunks.push(chunk),
    ended: () => {
      connection.destroy();
      answer(res, chunks);
    },
    failed: () => res.destroy(),
    drained: () => {},
  }, false);
}

const server = createServer({ keepAliveTimeout: 60_000 }, mode === 'handle' ? viaHandle : viaNet);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.stdout.write(`listening ${address.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
