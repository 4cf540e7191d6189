// Static files before the app: an App that answers requests naming a file under a static mount
// (or a --check-static directory) itself, on every protocol, and hands every other request to
// the app it wraps. It sits where every request passes whatever its protocol: App.serve for
// SPDY, h2 and h2c streams, App.serveNode for node:http's HTTP/1.1 requests.

import { close } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App } from '../apps/app.ts';
import type { RequestHead, ServerExchange } from '../exchange/exchange.ts';
import { NodeHttpExchange } from '../exchange/node-http-exchange.ts';
import type { StaticFilesConfig } from './static-config.ts';
import { OpenFileCache } from './open-file-cache.ts';
import { lookupStatic, type StaticLookup } from './static-lookup.ts';
import { getsWholeHead, serveFile } from './static-response.ts';

const FORBIDDEN_BODY = Buffer.from('forbidden\n');
const NOT_STATIC: StaticLookup = { kind: 'none' };

export function staticFilesApp(inner: App, config: StaticFilesConfig): App {
  const cache = config.cachePathsSeconds > 0 ? new OpenFileCache(config.cachePathsSeconds * 1000) : undefined;
  /** What a GET or HEAD finds (the cache first: a hit costs no path checks); other methods are the app's. */
  const lookup = (head: RequestHead): StaticLookup => {
    if (head.method !== 'GET' && head.method !== 'HEAD') return NOT_STATIC;
    return lookupStatic(config, head.target, cache);
  };

  const answer = (exchange: ServerExchange, found: StaticLookup): void => {
    if (exchange.aborted) {
      if (found.kind === 'file') close(found.fd, ignore);
      return;
    }
    if (found.kind === 'refused') {
      exchange.respond(403, ['content-type', 'text/plain; charset=utf-8', 'content-length', String(FORBIDDEN_BODY.length)], false);
      exchange.end(FORBIDDEN_BODY);
      return;
    }
    if (found.kind !== 'none') serveFile(exchange, config, found.kind === 'file' ? found.fd : found.bytes, found.file);
  };

  const app: App = {
    style: inner.style,
    ...(inner.upgrade === undefined ? {} : { upgrade: inner.upgrade }),
    serve(exchange) {
      const found = lookup(exchange.head);
      if (found.kind === 'none') return inner.serve(exchange);
      answer(exchange, found);
    },
  };
  const serveNode = inner.serveNode;
  if (serveNode !== undefined) {
    (app as { serveNode?: App['serveNode'] }).serveNode = (req: IncomingMessage, res: ServerResponse, head: RequestHead) => {
      const found = lookup(head);
      if (found.kind === 'none') return serveNode(req, res, head);
      // A small file asked for plainly: the prebuilt head serveFile would send, through node:http's
      // own writeHead and one write of its bytes, with no exchange in between (what such a
      // request costs is then mostly node:http's). Raw names: head.headers lower-cases a copy.
      if (found.kind === 'bytes' && getsWholeHead(config, req.rawHeaders)) {
        res.writeHead(200, found.file.wholeHead);
        if (head.method === 'HEAD') res.end();
        else res.end(found.bytes);
        return;
      }
      answer(new NodeHttpExchange(req, res, head, { writeBytes: res.writableHighWaterMark, readBytes: req.readableHighWaterMark }), found);
    };
  }
  return app;
}

function ignore(): void {}
