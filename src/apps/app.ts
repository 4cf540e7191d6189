// What the server runs for each request: one object per --module, whatever its style.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RequestHead, ServerExchange } from '../exchange/exchange.ts';

export interface App {
  /** How the module's export was understood, for the startup log. */
  readonly style: 'node-listener' | 'fetch';
  /** Serves one request from any front end. Never throws: app failures become a 500 or a reset. */
  serve(exchange: ServerExchange): void;
  /**
   * Present for Node listener apps: serves a request node:http parsed itself (the HTTP/1.1 front
   * end) with Node's own objects, untouched but for the environment.
   */
  readonly serveNode?: (req: IncomingMessage, res: ServerResponse, head: RequestHead) => void;
  /** Present for apps that take upgrades (WebSockets): their 'upgrade' listeners. */
  readonly upgrade?: UpgradeHandler;
}

export interface UpgradeHandler {
  /** True while the app has a listener to take an upgrade (listeners may come and go). */
  accepts(): boolean;
  /** An HTTP/1.1 upgrade as node:http parsed it: ('upgrade', req, socket, head). */
  serve(req: IncomingMessage, socket: Duplex, head: Buffer, requestHead: RequestHead): void;
  /**
   * An h2 extended CONNECT (RFC 8441) for `protocol`: `socket` is the stream, and the first
   * bytes written to it must be the app's HTTP/1.1 response head (101 to accept).
   */
  serveTunnel(requestHead: RequestHead, protocol: string, socket: Duplex & ByteCounts): void;
}

/** A socket's byte counts: net.Socket's, TLSSocket's (plaintext), the h2 tunnel's. */
export interface ByteCounts {
  readonly bytesRead: number;
  readonly bytesWritten: number;
}
