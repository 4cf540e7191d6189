// Upgrades for Node listener apps: node:http's ('upgrade', req, socket, head), which `ws`,
// socket.io and others listen for. HTTP/1.1 upgrades arrive as node:http parsed them; an h2
// extended CONNECT (RFC 8441) arrives as a tunnel over its stream, and becomes the HTTP/1.1-style
// upgrade those libraries expect: GET with Upgrade, Connection and a Sec-WebSocket-Key (h2 has
// none; the library's Sec-WebSocket-Accept for it is dropped with the 101 the tunnel turns into
// :status 200).

import { randomBytes } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FlatHeaders, RequestHead } from '../exchange/exchange.ts';
import type { IncomingPrivates } from '../internals/node-internals.ts';
import type { UpgradeHandler } from './app.ts';
import { decorateRequest } from './node-listener.ts';

export type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
type ErrorReporter = (error: unknown, head: RequestHead) => void;

const EMPTY = Buffer.alloc(0);

/** An UpgradeHandler calling whatever `listeners()` gives at the time of each upgrade. */
export function upgradeHandler(listeners: () => readonly UpgradeListener[], reportError: ErrorReporter): UpgradeHandler {
  const run = (req: IncomingMessage, socket: Duplex, head: Buffer, requestHead: RequestHead): void => {
    decorateRequest(req, requestHead);
    try {
      for (const listener of listeners()) listener(req, socket, head);
    } catch (error) {
      reportError(error, requestHead);
      socket.destroy();
    }
  };
  return {
    accepts: () => listeners().length > 0,
    serve: run,
    serveTunnel(requestHead, protocol, socket) {
      run(tunnelRequest(requestHead, protocol, socket), socket, EMPTY, requestHead);
    },
  };
}

/** The HTTP/1.1 upgrade request an extended CONNECT stands for. */
function tunnelRequest(head: RequestHead, protocol: string, socket: Duplex): IncomingMessage {
  const req = new IncomingMessage(socket as never);
  req.method = 'GET';
  req.url = head.target;
  req.httpVersion = '1.1';
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  const raw = ['host', head.authority, ...tunnelUpgradeHeaders(head, protocol)];
  req.rawHeaders = raw;
  (req as unknown as IncomingPrivates)._addHeaderLines(raw, raw.length);
  req.complete = true;
  return req;
}

/**
 * An extended CONNECT's headers as an HTTP/1.1 upgrade's: the stream's own, plus Upgrade,
 * Connection and, for a WebSocket, a Sec-WebSocket-Key (RFC 8441 §5: h2 has none).
 */
export function tunnelUpgradeHeaders(head: RequestHead, protocol: string): FlatHeaders {
  const raw = head.headers.slice();
  raw.push('upgrade', protocol, 'connection', 'Upgrade');
  if (protocol === 'websocket' && !raw.some((name, i) => i % 2 === 0 && name === 'sec-websocket-key')) {
    raw.push('sec-websocket-key', randomBytes(16).toString('base64'));
  }
  return raw;
}
