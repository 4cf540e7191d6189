// The socket a Node listener app sees on a multiplexed stream (SPDY, HTTP/2).
//
// The app gets genuine http.IncomingMessage and http.ServerResponse objects, so frameworks that
// swap their prototypes (Express does) keep working. The response is assigned this socket. The
// head never passes through it: the response's own _storeHeader hands it to the exchange as
// headers (response-head.ts) and marks the socket `headSent`. What node:http writes after that
// is the body as the app wrote it (chunked framing is off), which goes to the exchange; what it
// writes before is an interim 1xx head (writeContinue, writeEarlyHints), which a stream has no
// use for.
//
// The head is held until the end of the tick it was decided in, so that a response the app
// ends in that tick (writeHead() then end(body), or end(body) alone: most responses) goes out
// in one call, head and whole body (h2: HEADERS, then DATA with END_STREAM; no body: HEADERS
// with END_STREAM), not as a head, the body, and an empty frame that ends the stream. A head
// with no body or end in its tick goes out at the tick's end, as it did at once before; node:http
// itself sends nothing at writeHead() but with the first bytes.

import { EventEmitter } from 'node:events';
import type { ConnectionInfo, FlatHeaders, RequestHead, ServerExchange } from '../exchange/exchange.ts';
import type { HttpSocketShape } from '../internals/node-internals.ts';

export class StreamSocket extends EventEmitter implements HttpSocketShape {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteFamily: string;
  readonly encrypted: boolean | undefined;
  /** node:http sizes the IncomingMessage's buffer from this: the listener's read-buffer. */
  readonly readableHighWaterMark: number;
  readonly writableHighWaterMark: number;
  readonly writableLength = 0;
  readonly bufferSize = 0;
  readable = true;
  writable = true;
  destroyed = false;
  /** OutgoingMessage.end() resets the socket's cork count through this. */
  readonly _writableState = { corked: 0 };
  readonly writableCorked = 0;
  /** Set by ServerResponse.assignSocket. */
  _httpMessage: unknown = null;

  /** Set once the response head went to the exchange: from then on, writes are body. */
  headSent = false;

  private readonly exchange: ServerExchange;
  private readonly reportError: (error: unknown, head: RequestHead) => void;
  /** The head not yet sent (status 0: none), and the body's first bytes, held with it. */
  private heldStatus = 0;
  private heldHeaders: FlatHeaders | undefined = undefined;
  private heldBody: Buffer | undefined = undefined;
  private heldCallback: (() => void) | undefined = undefined;

  constructor(exchange: ServerExchange, reportError: (error: unknown, head: RequestHead) => void) {
    super();
    const connection: ConnectionInfo = exchange.head.connection;
    this.exchange = exchange;
    this.reportError = reportError;
    this.readableHighWaterMark = exchange.buffers.readBytes;
    this.writableHighWaterMark = exchange.buffers.writeBytes;
    this.remoteAddress = connection.remoteAddress;
    this.remotePort = connection.remotePort;
    this.localAddress = connection.localAddress;
    this.localPort = connection.localPort;
    this.remoteFamily = connection.remoteAddress.includes(':') ? 'IPv6' : 'IPv4';
    // Frameworks test `socket.encrypted` for req.protocol / ctx.secure.
    this.encrypted = connection.secure ? true : undefined;
  }

  write(data: string | Uint8Array, encoding?: BufferEncoding | ((error?: Error) => void), callback?: (error?: Error) => void): boolean {
    if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    if (typeof callback !== 'function') callback = undefined; // node:http passes null
    if (this.destroyed) return false;
    let body: Buffer | undefined;
    if (!this.headSent) body = undefined; // an interim 1xx head
    else if (typeof data === 'string') body = data.length === 0 ? undefined : Buffer.from(data, encoding ?? 'utf8');
    else body = data.byteLength === 0 ? undefined : Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (body === undefined) {
      if (callback !== undefined) process.nextTick(callback);
      return true;
    }
    if (this.heldStatus !== 0) {
      if (this.heldBody === undefined) {
        this.heldBody = body;
        this.heldCallback = callback;
        return true;
      }
      this.sendHeldHead();
      if (this.destroyed) return false;
    }
    return this.exchange.write(body, callback);
  }

  /** The response's head, from its _storeHeader: sent with the body's end, or at the tick's end. */
  sendHead(status: number, headers: FlatHeaders): void {
    this.headSent = true;
    this.heldStatus = status;
    this.heldHeaders = headers;
    if (heldHeads.push(this) === 1) process.nextTick(sendHeldHeads);
  }

  /** The app ended the response: all of its body has been written here. */
  endResponse(): void {
    const { heldStatus: status, heldHeaders: headers, heldBody: body, heldCallback: callback } = this;
    this.release();
    if (status === 0 || this.destroyed) return this.exchange.end();
    try {
      if (body === undefined) this.exchange.respond(status, headers!, true);
      else if (this.exchange.respondWithBody !== undefined) this.exchange.respondWithBody(status, headers!, body);
      else {
        this.exchange.respond(status, headers!, false);
        this.exchange.end(body);
      }
    } catch (error) {
      return this.headRefused(error);
    }
    if (callback !== undefined) process.nextTick(callback);
  }

  /** The tick the head was decided in is over and the response goes on: the head goes now. */
  sendHeldHead(): void {
    const { heldStatus: status, heldHeaders: headers, heldBody: body, heldCallback: callback } = this;
    // The client reset the stream (or the connection went) before the head went: nobody to tell.
    if (status === 0 || this.destroyed) return;
    this.release();
    try {
      this.exchange.respond(status, headers!, false);
    } catch (error) {
      return this.headRefused(error);
    }
    if (body !== undefined) this.exchange.write(body, callback);
  }

  /**
   * The protocol refused the head (node:http2 throws on a status or a header it cannot send),
   * after the app's writeHead() returned: reported as the app's error, and the stream is reset.
   */
  private headRefused(error: unknown): void {
    this.reportError(error, this.exchange.head);
    this.destroy();
  }

  private release(): void {
    this.heldStatus = 0;
    this.heldHeaders = undefined;
    this.heldBody = undefined;
    this.heldCallback = undefined;
  }

  /** Lets the app see the exchange's backpressure end. */
  drained(): void {
    this.emit('drain');
  }

  // The rest of net.Socket that apps and frameworks call.
  cork(): void {}
  uncork(): void {}
  setTimeout(_ms: number, callback?: () => void): this {
    if (callback !== undefined) this.once('timeout', callback);
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  pause(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  address(): { address: string; port: number; family: string } {
    return { address: this.localAddress, port: this.localPort, family: this.remoteFamily };
  }
  end(): this {
    return this;
  }
  destroySoon(): void {}

  /** The app destroyed its request or response: the stream is reset. */
  destroy(error?: Error): this {
    if (this.destroyed) return this;
    this.close();
    this.exchange.abort();
    void error;
    return this;
  }

  /** The exchange is over (finished or aborted): Node's objects learn it through 'close'. */
  close(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.readable = false;
    this.writable = false;
    this.emit('close', false);
  }
}

/** Sockets whose heads were decided in this tick, sent at its end unless their responses ended. */
let heldHeads: StreamSocket[] = [];

function sendHeldHeads(): void {
  const sockets = heldHeads;
  heldHeads = [];
  for (const socket of sockets) socket.sendHeldHead();
}
