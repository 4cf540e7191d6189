// The app a listener serves, with the edge in front: static files, the HTTPS redirect of
// --http listeners, --limit-post, --harakiri and HSTS. Applied in createHandler, so the single
// process, a master's workers and createServer all get it; nothing is wrapped when nothing is asked.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App } from '../apps/app.ts';
import type { RequestHead, ServerExchange } from '../exchange/exchange.ts';
import { headerValue } from '../exchange/flat-headers.ts';
import { hasStaticFiles } from '../static/static-config.ts';
import { staticFilesApp } from '../static/static-app.ts';
import { EDGE_FAILURES, type EdgeOptions } from './edge-options.ts';
import { GuardedExchange, type ExchangeBounds } from './guarded-exchange.ts';
import { httpsLocation } from './https-redirect.ts';
import { guardNodeRequest } from './node-guards.ts';

export function edgeApp(app: App, options: EdgeOptions | undefined, limitPostBytes: number): App {
  const inner = hasStaticFiles(options?.staticFiles) ? staticFilesApp(app, options.staticFiles) : app;
  const harakiriMs = options?.harakiriMs ?? 0;
  const httpsPort = options?.httpsPort;
  const hsts = options?.hstsSeconds;
  if (limitPostBytes === 0 && harakiriMs === 0 && httpsPort === undefined && hsts === undefined) return inner;
  const bounds: ExchangeBounds = { limitPostBytes, harakiriMs, extraHeader: hsts === undefined ? undefined : ['strict-transport-security', `max-age=${hsts}`] };
  const guarded: App = {
    style: inner.style,
    ...(inner.upgrade === undefined ? {} : { upgrade: inner.upgrade }),
    serve(exchange) {
      if (httpsPort !== undefined) return redirect(exchange, httpsPort);
      if (declaresTooMuch(exchange.head, limitPostBytes)) return refuseBody(exchange);
      inner.serve(new GuardedExchange(exchange, bounds));
    },
  };
  const serveNode = inner.serveNode;
  if (serveNode !== undefined) {
    (guarded as { serveNode?: App['serveNode'] }).serveNode = (req: IncomingMessage, res: ServerResponse, head: RequestHead) => {
      if (httpsPort !== undefined) {
        res.writeHead(301, { location: httpsLocation(head.authority, head.target, httpsPort, head.connection.localAddress), 'content-length': 0 });
        return res.end();
      }
      if (declaresTooMuch(head, limitPostBytes)) {
        const body = EDGE_FAILURES['body-too-large'].body;
        res.writeHead(413, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
        return res.end(body);
      }
      guardNodeRequest(req, res, head, bounds);
      serveNode(req, res, head);
    };
  }
  return guarded;
}

/** A Content-Length over the limit is answered before a byte of the body is read. */
function declaresTooMuch(head: RequestHead, limitPostBytes: number): boolean {
  if (limitPostBytes === 0 || !head.hasBody) return false;
  const declared = headerValue(head.headers, 'content-length');
  return declared !== undefined && Number(declared) > limitPostBytes;
}

function refuseBody(exchange: ServerExchange): void {
  const bytes = Buffer.from(EDGE_FAILURES['body-too-large'].body);
  const multiplexed = exchange.head.protocol.kind === 'spdy' || exchange.head.protocol.kind === 'h2';
  exchange.respond(413, ['content-type', 'text/plain; charset=utf-8', 'content-length', String(bytes.length), ...(multiplexed ? [] : ['connection', 'close'])], false);
  // SPDY: the client may still be sending; a reset after the answer stops it (h2: node:http2
  // closes an unread stream itself once the response is out).
  exchange.end(bytes, exchange.head.protocol.kind === 'spdy' ? () => exchange.abort() : undefined);
}

function redirect(exchange: ServerExchange, port: number): void {
  const head = exchange.head;
  exchange.respond(301, ['location', httpsLocation(head.authority, head.target, port, head.connection.localAddress), 'content-length', '0'], true);
}
