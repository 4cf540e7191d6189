// Runs a Node `(req, res)` request listener (Express, Koa's callback(), plain handlers) on any
// front end. Multiplexed streams get genuine http.IncomingMessage / http.ServerResponse objects
// over a StreamSocket; HTTP/1.1 requests keep node:http's own objects.
//
// Every request also carries `req.environ` (the uWSGI-style environment) and node-spdy's
// conventional `req.isSpdy`, `req.spdyVersion`, `req.spdyStream`.

import { IncomingMessage, OutgoingMessage, ServerResponse, type RequestListener } from 'node:http';
import { buildEnviron, type Environ } from '../exchange/environ.ts';
import { headerValue } from '../exchange/flat-headers.ts';
import type { BodySink, FlatHeaders, RequestHead, ServerExchange } from '../exchange/exchange.ts';
import type { App } from './app.ts';
import { StreamSocket, type ResponseHeadSink } from './stream-socket.ts';

/** What spry adds to every IncomingMessage it hands to an app. */
export interface SpryRequestFields {
  environ: Environ;
  isSpdy: boolean;
  spdyVersion: number | undefined;
  spdyStream: number | undefined;
}

type ErrorReporter = (error: unknown, head: RequestHead) => void;

export function nodeListenerApp(listener: RequestListener, reportError: ErrorReporter): App {
  return {
    style: 'node-listener',
    serve(exchange) {
      serveExchange(listener, exchange, reportError);
    },
    serveNode(req, res, head) {
      decorate(req, head);
      run(listener, req, res, head, reportError, res);
    },
  };
}

const kHead = Symbol('spry.head');
const kEnviron = Symbol('spry.environ');

type Decorated = IncomingMessage & Partial<SpryRequestFields> & { [kHead]?: RequestHead; [kEnviron]?: Environ };

// One descriptor for every request (no closure per request). An own accessor, not one on a
// prototype: frameworks such as Express replace the request's prototype.
const ENVIRON_PROPERTY: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  // Built on first use: most requests never look at it.
  get(this: Decorated): Environ {
    return (this[kEnviron] ??= buildEnviron(this[kHead]!));
  },
};

function decorate(req: IncomingMessage, head: RequestHead): void {
  const fields = req as Decorated;
  const protocol = head.protocol;
  fields[kHead] = head;
  Object.defineProperty(fields, 'environ', ENVIRON_PROPERTY);
  fields.isSpdy = protocol.kind === 'spdy';
  fields.spdyVersion = protocol.kind === 'spdy' ? Number(protocol.version) : undefined;
  fields.spdyStream = protocol.kind === 'spdy' ? protocol.streamId : undefined;
}

type HeadWriter = (this: ServerResponse, firstLine: string, headers: unknown) => void;
const storeHeader = (ServerResponse.prototype as unknown as { _storeHeader: HeadWriter })._storeHeader;

/**
 * node:http decides in _storeHeader to frame the body as chunked (no Content-Length, or the app
 * set Transfer-Encoding): never on a multiplexed stream, which frames the body itself. Undoing
 * the decision right after it is made keeps `chunkedEncoding` a plain data property; an accessor
 * in its place would turn every response object into a slow dictionary-mode object (3 KiB of
 * garbage a request).
 */
function storeHeaderWithoutChunking(this: ServerResponse, firstLine: string, headers: unknown): void {
  storeHeader.call(this, firstLine, headers);
  (this as ServerResponse & { chunkedEncoding: boolean }).chunkedEncoding = false;
}

function serveExchange(listener: RequestListener, exchange: ServerExchange, reportError: ErrorReporter): void {
  const head = exchange.head;
  const bridge = new ExchangeBridge(exchange);
  const socket = new StreamSocket(exchange, bridge);
  const req = new IncomingMessage(socket as never);
  bridge.req = req;
  req.method = head.method;
  req.url = head.target;
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  req.httpVersion = '1.1';
  const rawHeaders = head.headers.slice();
  if (head.authority !== '' && headerValue(rawHeaders, 'host') === undefined) rawHeaders.push('host', head.authority);
  req.rawHeaders = rawHeaders;
  // As node:http's parser does: headers are computed from rawHeaders on first access.
  (req as unknown as { _addHeaderLines(h: string[], n: number): void })._addHeaderLines(rawHeaders, rawHeaders.length);
  decorate(req, head);

  // Request body, with backpressure: when req's buffer is full, the stream's window stays shut.
  (req as RequestCarrier)[kExchange] = exchange;
  (req as unknown as { _read(): void })._read = readFromExchange;
  exchange.setBodySink(bridge);

  const res = new ServerResponse(req);
  // Own properties survive a framework swapping the prototype: no chunked framing, ever.
  res.useChunkedEncodingByDefault = false;
  (res as unknown as { _storeHeader: HeadWriter })._storeHeader = storeHeaderWithoutChunking;
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
type ExchangeCarrier = ServerResponse & { [kExchange]?: ServerExchange; [kSocket]?: StreamSocket };
type RequestCarrier = IncomingMessage & { [kExchange]?: ServerExchange };

/** Where the exchange's response head and request body meet Node's objects: one object a request. */
class ExchangeBridge implements ResponseHeadSink, BodySink {
  private readonly exchange: ServerExchange;
  req!: IncomingMessage;

  constructor(exchange: ServerExchange) {
    this.exchange = exchange;
  }

  onHead(status: number, headers: FlatHeaders): void {
    this.exchange.respond(status, headers, false);
  }

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
  this[kExchange]!.resumeBody();
}

// Shared handlers (no closures per request): each event fires once per response.
function onResponsePrefinish(this: ExchangeCarrier): void {
  // All of the response has been written to the socket: end the stream.
  this[kExchange]!.end();
}

function onResponseFinish(this: ExchangeCarrier): void {
  this[kSocket]!.close(); // node:http's 'close' on the response follows from the socket's
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
const kNeedDrain = Object.getOwnPropertySymbols(new OutgoingMessage()).find((symbol) => symbol.description === 'kNeedDrain');

function clearNeedDrain(res: ServerResponse): void {
  if (kNeedDrain !== undefined) (res as unknown as Record<symbol, boolean>)[kNeedDrain] = false;
}
