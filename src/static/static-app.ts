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
import { cachedStatic, lookupStatic, type StaticLookup } from './static-lookup.ts';
import { staticCandidates } from './static-path.ts';
import { serveFile } from './static-response.ts';

const FORBIDDEN_BODY = Buffer.from('forbidden\n');

export function staticFilesApp(inner: App, config: StaticFilesConfig): App {
  const cache = config.cachePathsSeconds > 0 ? new OpenFileCache(config.cachePathsSeconds * 1000) : undefined;
  const mayBeStatic = (head: RequestHead): boolean => staticCandidates(config, head.target).length > 0;
  /** What the cache answers without a file-system call, if it has it (a GET or HEAD only). */
  const hitFor = (head: RequestHead): StaticLookup | undefined =>
    cache === undefined || !isGetOrHead(head.method) ? undefined : cachedStatic(cache, head.target);

  const answer = (exchange: ServerExchange, found: StaticLookup, passOn: () => void): void => {
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
    serveFile(exchange, config, found.kind === 'file' ? found.fd : found.bytes, found.file);
  };
  const serve = (exchange: ServerExchange, hit: StaticLookup | undefined, passOn: () => void): void => {
    if (hit !== undefined) return answer(exchange, hit, passOn);
    lookupStatic(config, exchange.head.target, cache).then((found) => answer(exchange, found, passOn), passOn);
  };

  const app: App = {
    style: inner.style,
    ...(inner.upgrade === undefined ? {} : { upgrade: inner.upgrade }),
    serve(exchange) {
      const head = exchange.head;
      const hit = hitFor(head);
      if (hit === undefined ? !isGetOrHead(head.method) || !mayBeStatic(head) : hit.kind === 'none') return inner.serve(exchange);
      serve(exchange, hit, () => inner.serve(exchange));
    },
  };
  const serveNode = inner.serveNode;
  if (serveNode !== undefined) {
    (app as { serveNode?: App['serveNode'] }).serveNode = (req: IncomingMessage, res: ServerResponse, head: RequestHead) => {
      const hit = hitFor(head);
      if (hit === undefined ? !isGetOrHead(head.method) || !mayBeStatic(head) : hit.kind === 'none') return serveNode(req, res, head);
      // A cached small file asked for plainly: node:http's own head and one write of its bytes,
      // with no exchange in between (what a hit costs is then mostly node:http's).
      if (hit?.kind === 'bytes' && config.expires.length === 0 && !isConditional(req.rawHeaders)) {
        res.writeHead(200, hit.file.wholeHead);
        if (head.method === 'HEAD') res.end();
        else res.end(hit.bytes);
        return;
      }
      const buffers = { writeBytes: res.writableHighWaterMark, readBytes: req.readableHighWaterMark };
      serve(new NodeHttpExchange(req, res, head, buffers), hit, () => serveNode(req, res, head));
    };
  }
  return app;
}

function isGetOrHead(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

/** Whether a request carries If-None-Match, If-Modified-Since, Range or If-Range (raw names, any case). */
function isConditional(raw: readonly string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const length = name.length;
    if (length !== 5 && length !== 8 && length !== 13 && length !== 17) continue;
    const lower = name.toLowerCase();
    if (lower === 'range' || lower === 'if-range' || lower === 'if-none-match' || lower === 'if-modified-since') return true;
  }
  return false;
}

function ignore(): void {}
