// node:http's parsed request → the protocol-neutral RequestHead.

import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionInfo, FlatHeaders, RequestHead } from '../exchange/exchange.ts';

export function connectionInfo(socket: Socket, secure: boolean): ConnectionInfo {
  return {
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
    secure,
  };
}

export function requestHeadFromNode(req: IncomingMessage, connection: ConnectionInfo): RequestHead {
  const raw = req.rawHeaders;
  const headers: FlatHeaders = new Array(raw.length);
  for (let i = 0; i < raw.length; i += 2) {
    headers[i] = raw[i].toLowerCase();
    headers[i + 1] = raw[i + 1];
  }
  return {
    method: req.method ?? 'GET',
    target: req.url ?? '/',
    authority: req.headers.host ?? '',
    scheme: connection.secure ? 'https' : 'http',
    httpVersion: req.httpVersion,
    headers,
    connection,
    protocol: { kind: req.httpVersion === '1.0' ? 'http/1.0' : 'http/1.1' },
    // RFC 9112 §6.3: without Content-Length or Transfer-Encoding a request has no body.
    hasBody: req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0'),
  };
}
