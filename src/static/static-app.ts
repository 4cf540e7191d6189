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
import { lookupStatic } from './static-lookup.ts';
import { staticCandidates } from './static-path.ts';
import { serveFile } from './static-response.ts';

const FORBIDDEN_BODY = Buffer.from('forbidden\n');

export function staticFilesApp(inner: App, config: StaticFilesConfig): App {
  const cache = config.cachePathsSeconds > 0 ? new OpenFileCache(config.cachePathsSeconds * 1000) : undefined;
  const mayBeStatic = (head: RequestHead): boolean =>
    (head.method === 'GET' || head.method === 'HEAD') && staticCandidates(config, head.target).length > 0;

  const serve = (exchange: ServerExchange, passOn: () => void): void => {
    lookupStatic(config, exchange.head.target, cache).then((found) => {
      if (found.kind === 'none') return passOn();
      if (exchange.aborted) {
        if (found.kind === 'file') close(found.fd, ignore);
        return;
      }
      if (found.kind === 'refused') {
        exchange.respond(403, ['content-type', 'text/plain; charset=utf-8', 'content-length', String(FORBIDDEN_BODY.length)], false);
        exchange.end(FORBIDDEN_BODY);
        return;
      }
      serveFile(exchange, config, found.kind === 'file' ? found.fd : found.bytes, found.stats, found.path);
    }, passOn);
  };

  const app: App = {
    style: inner.style,
    ...(inner.upgrade === undefined ? {} : { upgrade: inner.upgrade }),
    serve(exchange) {
      if (!mayBeStatic(exchange.head)) return inner.serve(exchange);
      serve(exchange, () => inner.serve(exchange));
    },
  };
  const serveNode = inner.serveNode;
  if (serveNode !== undefined) {
    (app as { serveNode?: App['serveNode'] }).serveNode = (req: IncomingMessage, res: ServerResponse, head: RequestHead) => {
      if (!mayBeStatic(head)) return serveNode(req, res, head);
      const buffers = { writeBytes: res.writableHighWaterMark, readBytes: req.readableHighWaterMark };
      serve(new NodeHttpExchange(req, res, head, buffers), () => serveNode(req, res, head));
    };
  }
  return app;
}

function ignore(): void {}
