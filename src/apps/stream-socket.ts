// The socket a Node listener app sees on a multiplexed stream (SPDY, HTTP/2).
//
// The app gets genuine http.IncomingMessage and http.ServerResponse objects, so frameworks that
// swap their prototypes (Express does) keep working. The response is assigned this socket: Node
// serialises the response as HTTP/1.1 into write(), and we read the head back (status and
// headers, which Node has validated) and pass the body bytes to the exchange. Chunked framing is
// switched off on the response, so what follows the head is the body as written.

import { EventEmitter } from 'node:events';
import type { ConnectionInfo, FlatHeaders, ServerExchange } from '../exchange/exchange.ts';

export interface ResponseHeadSink {
  /** The response head Node produced (1xx interim heads are dropped: SPDY has none). */
  onHead(status: number, headers: FlatHeaders): void;
}

export class StreamSocket extends EventEmitter {
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

  private readonly exchange: ServerExchange;
  private readonly headSink: ResponseHeadSink;
  private headDone = false;
  private partialHead = '';

  constructor(exchange: ServerExchange, headSink: ResponseHeadSink) {
    super();
    const connection: ConnectionInfo = exchange.head.connection;
    this.exchange = exchange;
    this.headSink = headSink;
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
    if (!this.headDone) {
      // Node writes its head as one latin1 string, alone or with a first string chunk behind it.
      body =
        typeof data === 'string'
          ? this.readHead(data, encoding ?? 'utf8')
          : this.readHead(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1'), 'latin1');
    } else if (typeof data === 'string') {
      body = data.length === 0 ? undefined : Buffer.from(data, encoding ?? 'utf8');
    } else {
      body = data.byteLength === 0 ? undefined : Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    }
    if (body === undefined) {
      if (callback !== undefined) process.nextTick(callback);
      return true;
    }
    return this.exchange.write(body, callback);
  }

  /** Parses the serialized head; returns what follows it (the first body bytes), if any. */
  private readHead(text: string, bodyEncoding: BufferEncoding): Buffer | undefined {
    let input = this.partialHead + text;
    for (;;) {
      const end = input.indexOf('\r\n\r\n');
      if (end < 0) {
        this.partialHead = input;
        return undefined;
      }
      // `HTTP/1.1 200 OK\r\nname: value\r\n…`: scanned in place (no split, no trim: fewer strings).
      const status = Number.parseInt(input.slice(9, 12), 10);
      if (status >= 100 && status < 200) {
        input = input.slice(end + 4); // 100 Continue, 103 Early Hints
        continue;
      }
      const headers: FlatHeaders = [];
      let line = input.indexOf('\r\n') + 2;
      while (line > 1 && line < end) {
        let lineEnd = input.indexOf('\r\n', line);
        if (lineEnd < 0 || lineEnd > end) lineEnd = end;
        const colon = input.indexOf(':', line);
        let valueStart = colon + 1;
        while (valueStart < lineEnd && (input.charCodeAt(valueStart) === 32 || input.charCodeAt(valueStart) === 9)) valueStart++;
        let valueEnd = lineEnd;
        while (valueEnd > valueStart && (input.charCodeAt(valueEnd - 1) === 32 || input.charCodeAt(valueEnd - 1) === 9)) valueEnd--;
        headers.push(input.slice(line, colon), input.slice(valueStart, valueEnd));
        line = lineEnd + 2;
      }
      input = input.slice(end + 4);
      this.headDone = true;
      this.partialHead = '';
      this.headSink.onHead(status, headers);
      if (input.length === 0) return undefined;
      return Buffer.from(input, bodyEncoding);
    }
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
