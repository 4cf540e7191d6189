// What the server runs for each request: one object per --module, whatever its style.

import type { IncomingMessage, ServerResponse } from 'node:http';
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
}
