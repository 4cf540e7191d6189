// An app that is a server object of its own (an http.Server or https.Server the module made, a
// Fastify instance, or createServer's own server): its requests go to the server's 'request'
// listeners, as node:http would call them, though spry accepts the connections and the server's
// own listen() is never called.

import type { EventEmitter } from 'node:events';
import { Server as HttpServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { Server as HttpsServer } from 'node:https';

/**
 * A listener that calls every 'request' listener `server` has at the time of the request,
 * in order, as emit() would; a listener's rejected promise is passed on (to become a 500).
 */
export function requestListenersOf(server: EventEmitter): RequestListener {
  // The list is taken anew only after it changed, not copied per request.
  let listeners: RequestListener[] | undefined;
  const changed = (event: string | symbol): void => {
    if (event === 'request') listeners = undefined;
  };
  server.on('newListener', changed);
  server.on('removeListener', changed);
  return function serveWithListeners(req: IncomingMessage, res: ServerResponse): unknown {
    const current = (listeners ??= server.listeners('request') as RequestListener[]);
    if (current.length === 1) return current[0].call(server, req, res);
    if (current.length === 0) {
      res.statusCode = 500;
      res.end();
      throw new Error('the server has no request listener');
    }
    let pending: Promise<unknown>[] | undefined;
    for (const listener of current) {
      const result: unknown = listener.call(server, req, res);
      if (result instanceof Promise) (pending ??= []).push(result);
    }
    return pending === undefined ? undefined : Promise.all(pending);
  };
}

export function isNodeServer(value: unknown): value is HttpServer | HttpsServer {
  return value instanceof HttpServer || value instanceof HttpsServer;
}

/** What spry needs of a Fastify instance: its node:http server and its ready(). */
export interface FastifyLike {
  readonly server: HttpServer | HttpsServer;
  ready(): PromiseLike<unknown>;
}

export function isFastifyLike(value: unknown): value is FastifyLike {
  if (typeof value !== 'object' && typeof value !== 'function') return false;
  const candidate = value as { server?: unknown; ready?: unknown; routing?: unknown };
  return value !== null && typeof candidate.ready === 'function' && typeof candidate.routing === 'function' && isNodeServer(candidate.server);
}

/**
 * A Fastify instance's request listener: its plugins load in ready(), and requests that arrive
 * before that wait for it (a failed ready() fails them).
 */
export function fastifyListener(app: FastifyLike): RequestListener {
  const serve = requestListenersOf(app.server);
  let ready = false;
  const loaded = Promise.resolve(app.ready()).then(() => {
    ready = true;
  });
  loaded.catch(() => {}); // reported through the requests that wait for it
  return (req, res) => (ready ? serve(req, res) : loaded.then(() => serve(req, res)));
}
