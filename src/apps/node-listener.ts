// Runs a Node `(req, res)` request listener (Express, Koa's callback(), plain handlers) on any
// front end. Multiplexed streams get genuine http.IncomingMessage / http.ServerResponse objects
// over a StreamSocket; HTTP/1.1 requests keep node:http's own objects.
//
// Every request also carries `req.environ` (the uWSGI-style environment) and node-spdy's
// conventional `req.isSpdy`, `req.spdyVersion`, `req.spdyStream`.

import { IncomingMessage, ServerResponse, type RequestListener } from 'node:http';
import { buildEnviron, type Environ } from '../exchange/environ.ts';
import { headerValue } from '../exchange/flat-headers.ts';
import type { BodySink, RequestHead, ServerExchange } from '../exchange/exchange.ts';
import { kNeedDrain, type IncomingPrivates, type OutgoingPrivates } from '../internals/node-internals.ts';
import { responseHeaders } from './response-head.ts';
import type { App, UpgradeHandler } from './app.ts';
import { pushOn, type PushCallback, type PushOptions } from './push-writable.ts';
import { StreamSocket } from './stream-socket.ts';

/** What spry adds to every IncomingMessage it hands to an app. */
export interface SpryRequestFields {
  environ: Environ;
  isSpdy: boolean;
  spdyVersion: number | undefined;
  spdyStream: number | undefined;
}

type ErrorReporter = (error: unknown, head: RequestHead) => void;

export function nodeListenerApp(listener: RequestListener, reportError: ErrorReporter, upgrade?: UpgradeHandler): App {
  return {
    style: 'node-listener',
    ...(upgrade === undefined ? {} : { upgrade }),
    serve(exchange) {
      serveExchange(listener, exchange, reportError);
    },
    serveNode(req, res, head) {
      decorate(req, head);
      run(listener, req, res, head, reportError, res);
    },
  };
}

// Where a request keeps its RequestHead and its environment once built. Symbol.for: a second
// copy of this module (an app importing spry's sources) finds the fields already installed.
const kHead = Symbol.for('spry.head');
const kEnviron = Symbol.for('spry.environ');

type Decorated = IncomingMessage & { [kHead]?: RequestHead; [kEnviron]?: Environ };

/** Gives a request node:http made (an upgrade's, say) spry's request fields. */
export function decorateRequest(req: IncomingMessage, head: RequestHead): void {
  decorate(req, head);
}

function decorate(req: IncomingMessage, head: RequestHead): void {
  (req as Decorated)[kHead] = head;
}

/**
 * spry's request fields are getters on IncomingMessage.prototype that read the request's
 * RequestHead: nothing to define per request (an own accessor per request cost ~1 µs). Express
 * and others swap a request's prototype for one that inherits from IncomingMessage.prototype, so
 * they keep them. A request spry did not hand out (an app's own http.get response) has no head:
 * `environ` and the SPDY fields read undefined there. Assigning one makes an own property.
 */
function installRequestFields(): void {
  const prototype = IncomingMessage.prototype;
  if (Object.getOwnPropertyDescriptor(prototype, 'environ') !== undefined) return;
  const field = (name: keyof SpryRequestFields, get: (this: Decorated) => unknown): void => {
    Object.defineProperty(prototype, name, {
      configurable: true,
      enumerable: false,
      get,
      set(this: IncomingMessage, value: unknown) {
        Object.defineProperty(this, name, { value, writable: true, configurable: true, enumerable: true });
      },
    });
  };
  // Built on first use: most requests never look at it.
  field('environ', function () {
    const head = this[kHead];
    return head === undefined ? undefined : (this[kEnviron] ??= buildEnviron(head));
  });
  field('isSpdy', function () {
    const head = this[kHead];
    return head === undefined ? undefined : head.protocol.kind === 'spdy';
  });
  field('spdyVersion', function () {
    const protocol = this[kHead]?.protocol;
    return protocol?.kind === 'spdy' ? Number(protocol.version) : undefined;
  });
  field('spdyStream', function () {
    const protocol = this[kHead]?.protocol;
    return protocol?.kind === 'spdy' ? protocol.streamId : undefined;
  });
}

installRequestFields();

/**
 * node-spdy's `res.push(path, { request, response }[, callback])`, on ServerResponse.prototype
 * once (as the request fields are): it reads the response's exchange, which only responses on
 * SPDY and h2 streams carry; elsewhere the returned stream discards.
 */
function installPush(): void {
  const prototype = ServerResponse.prototype as ServerResponse & { push?: unknown };
  if (Object.getOwnPropertyDescriptor(prototype, 'push') !== undefined) return;
  Object.defineProperty(prototype, 'push', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function push(this: ExchangeCarrier, path: string, options?: PushOptions, callback?: PushCallback) {
      return pushOn(this[kExchange], path, options, callback);
    },
  });
}

installPush();

/**
 * The response's `_storeHeader`: node:http calls it once, with the status line and the headers,
 * when the head is decided. Instead of serialising HTTP/1.1 (for us to parse back), the head goes
 * to the exchange as it is (response-head.ts). `_header` keeps a truthy value (headersSent) and
 * `_headerSent` says there is nothing left for node:http to write before the body. As no
 * chunked framing is chosen here, `chunkedEncoding` stays false: a plain data property, as it
 * must (an accessor in its place put every response in dictionary mode: 3 KiB of garbage each).
 */
function storeHeadOnStream(this: ExchangeCarrier, statusLine: string, headers: unknown): void {
  const status = this.statusCode;
  if (status < 200) {
    // writeHead(1xx): an interim head, which a stream has no use for. The final head may follow.
    this.statusCode = 200;
    this._hasBody = this.req.method !== 'HEAD';
    return;
  }
  const flat = responseHeaders(this, headers);
  this._header = statusLine;
  this._headerSent = true;
  // The client reset the stream (or the connection went) before the app answered: nobody to tell.
  const socket = this[kSocket]!;
  if (socket.destroyed) socket.headSent = true;
  else socket.sendHead(status, flat);
}

function serveExchange(listener: RequestListener, exchange: ServerExchange, reportError: ErrorReporter): void {
  const head = exchange.head;
  const bridge = new ExchangeBridge();
  const socket = new StreamSocket(exchange, reportError);
  const req = new IncomingMessage(socket as never);
  bridge.req = req;
  req.method = head.method;
  req.url = head.target;
  // What the client spoke: 2.0 on h2 (as node:http2 says), SPDY's :version, uwsgi's SERVER_PROTOCOL.
  const version = head.httpVersion;
  req.httpVersion = version;
  req.httpVersionMajor = version.charCodeAt(0) - 48;
  req.httpVersionMinor = version.charCodeAt(2) - 48;
  const rawHeaders = head.headers.slice();
  if (head.authority !== '' && headerValue(rawHeaders, 'host') === undefined) rawHeaders.push('host', head.authority);
  req.rawHeaders = rawHeaders;
  // As node:http's parser does: headers are computed from rawHeaders on first access.
  (req as unknown as IncomingPrivates)._addHeaderLines(rawHeaders, rawHeaders.length);
  decorate(req, head);

  // Request body, with backpressure: when req's buffer is full, the stream's window stays shut.
  (req as RequestCarrier)[kExchange] = exchange;
  (req as unknown as IncomingPrivates)._read = readFromExchange;
  exchange.setBodySink(bridge);

  const res = new ServerResponse(req);
  // Own properties survive a framework swapping the prototype: no chunked framing, ever.
  res.useChunkedEncodingByDefault = false;
  (res as ExchangeCarrier)._storeHeader = storeHeadOnStream;
  res.shouldKeepAlive = true;
  res.assignSocket(socket as never);

  exchange.onDrain = () => {
    clearNeedDrain(res);
    res.emit('drain');
  };
  exchange.onAbort = (reason) => {
    socket.close();
    if (!req.complete || !req.readableEnded) req.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET', cause: reason }));
  };
  const carried = res as ExchangeCarrier;
  carried[kExchange] = exchange;
  carried[kSocket] = socket;
  res.on('prefinish', onResponsePrefinish);
  res.on('finish', onResponseFinish);

  run(listener, req, res, head, reportError, exchange);
}

const kExchange = Symbol('spry.exchange');
const kSocket = Symbol('spry.socket');
/** A ServerResponse on a stream, with the node:http internals the adapter sets. */
type ExchangeCarrier = ServerResponse &
  Omit<OutgoingPrivates, '_storeHeader'> & {
    [kExchange]?: ServerExchange;
    [kSocket]?: StreamSocket;
    _storeHeader: (this: ExchangeCarrier, statusLine: string, headers: unknown) => void;
  };
type RequestCarrier = IncomingMessage & { [kExchange]?: ServerExchange };

/** Where the exchange's request body meets the IncomingMessage. */
class ExchangeBridge implements BodySink {
  req!: IncomingMessage;

  data(chunk: Buffer): boolean {
    return this.req.push(chunk);
  }

  end(): void {
    this.req.complete = true;
    this.req.push(null);
  }
}

/** IncomingMessage's _read: the app wants more of the body. */
function readFromExchange(this: RequestCarrier): void {
  const exchange = this[kExchange]!;
  exchange.sendContinue?.(); // Expect: 100-continue is answered once the app reads
  exchange.resumeBody();
}

// Shared handlers (no closures per request): each event fires once per response.
function onResponsePrefinish(this: ExchangeCarrier): void {
  // All of the response has been written to the socket: end the stream.
  this[kSocket]!.endResponse();
}

function onResponseFinish(this: ExchangeCarrier): void {
  this[kSocket]!.close(); // node:http's 'close' on the response follows from the socket's
  // Done with both: a response promoted while in flight would keep them (and, through them, the
  // young objects of the exchange's last moments) alive across scavenges until a full GC.
  this[kSocket] = undefined;
  this[kExchange] = undefined;
  const req = this.req;
  if (req.complete) req.destroy();
  else {
    // Whatever the app left unread is discarded by the exchange.
    req.on('end', () => req.destroy());
    req.resume();
  }
}

type Abortable = { destroy(): void } | { abort(): void };

function run(listener: RequestListener, req: IncomingMessage, res: ServerResponse, head: RequestHead, reportError: ErrorReporter, abortable: Abortable): void {
  try {
    const result: unknown = listener(req, res);
    if (result instanceof Promise) result.catch((error: unknown) => fail(error, res, head, reportError, abortable));
  } catch (error) {
    fail(error, res, head, reportError, abortable);
  }
}

/** The app threw or rejected: a 500 if nothing was sent yet, else the response is cut. */
function fail(error: unknown, res: ServerResponse, head: RequestHead, reportError: ErrorReporter, abortable: Abortable): void {
  reportError(error, head);
  if (!res.headersSent && !res.writableEnded) {
    res.statusCode = 500;
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end('Internal Server Error\n');
  } else if (!res.writableEnded) {
    // Too late for a 500: reset the stream (or, on HTTP/1.1, close the connection).
    if ('abort' in abortable) abortable.abort();
    else abortable.destroy();
  }
}

/**
 * OutgoingMessage remembers that a write returned false in a private symbol and reports it as
 * `writableNeedDrain`; node:http clears it from its socket's 'drain'. We emit 'drain' ourselves,
 * so we clear it too, or a later pipe() would wait for a drain that never comes.
 */
function clearNeedDrain(res: ServerResponse): void {
  (res as unknown as Record<symbol, boolean>)[kNeedDrain] = false;
}
