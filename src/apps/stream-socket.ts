// The socket a Node listener app sees on a multiplexed stream (SPDY, HTTP/2).
//
// The app gets genuine http.IncomingMessage and http.ServerResponse objects, so frameworks that
// swap their prototypes (Express does) keep working. The response is assigned this socket. The
// head never passes through it: the response's own _storeHeader hands it to the exchange as
// headers (response-head.ts) and marks the socket `headSent`. What node:http writes after that
// is the body as the app wrote it (chunked framing is off), which goes to the exchange; what it
// writes before is an interim 1xx head (writeContinue, writeEarlyHints), which a stream has no
// use for.

import { EventEmitter } from 'node:events';
import type { ConnectionInfo, ServerExchange } from '../exchange/exchange.ts';
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

  constructor(exchange: ServerExchange) {
    super();
    const connection: ConnectionInfo = exchange.head.connection;
    this.exchange = exchange;
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
    return this.exchange.write(body, callback);
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
