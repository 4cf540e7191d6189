// An h2 extended CONNECT stream (RFC 8441 §4) as the socket an upgrade listener takes over. The
// app answers as it would over HTTP/1.1: its first bytes are a response head, which becomes the
// stream's HEADERS — 101 Switching Protocols turns into :status 200 (RFC 8441 §5), anything
// else is sent as it is and ends the stream. After that, bytes pass both ways as DATA, with the
// stream's flow control as backpressure; closing one side closes the other, and destroying the
// socket resets the stream.

import { constants, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { Duplex } from 'node:stream';
import type { ConnectionInfo } from '../exchange/connection-info.ts';
import { CONNECTION_HEADERS } from '../exchange/connection-headers.ts';
import { isWebSocket, markWebSocket } from '../exchange/going-away.ts';

/** Longest response head the app may write before its body (it is ours to parse). */
const MAX_HEAD_BYTES = 64 << 10;
const HEAD_END = Buffer.from('\r\n\r\n');
/** What a 101's own headers say that an h2 tunnel's 200 must not (RFC 8441 §5). */
const UPGRADE_ONLY = new Set(['upgrade', 'sec-websocket-accept']);

export class Http2Tunnel extends Duplex {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteFamily: string;
  readonly encrypted: boolean | undefined;
  /** Bytes the client sent on the stream, and bytes the app wrote (its response head included), as net.Socket counts them. */
  bytesRead = 0;
  bytesWritten = 0;
  private readonly stream: ServerHttp2Stream;
  private readonly protocol: string;
  private head: Buffer | undefined = Buffer.alloc(0);

  /** `protocol` is the extended CONNECT's :protocol: a WebSocket goes away with 1001 (going-away.ts). */
  constructor(stream: ServerHttp2Stream, connection: ConnectionInfo, protocol: string) {
    super({ allowHalfOpen: false });
    this.stream = stream;
    this.protocol = protocol;
    this.remoteAddress = connection.remoteAddress;
    this.remotePort = connection.remotePort;
    this.localAddress = connection.localAddress;
    this.localPort = connection.localPort;
    this.remoteFamily = connection.remoteAddress.includes(':') ? 'IPv6' : 'IPv4';
    this.encrypted = connection.secure ? true : undefined;
    stream.on('data', (chunk: Buffer) => {
      this.bytesRead += chunk.length;
      if (!this.push(chunk)) stream.pause();
    });
    stream.on('end', () => this.push(null));
    stream.on('error', () => {}); // 'close' follows
    stream.on('close', () => {
      if (!this.destroyed) this.destroy();
    });
  }

  /** Socket methods the libraries call: timeouts are the listener's (--http-timeout), Nagle is TLS's. */
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

  override _read(): void {
    this.stream.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytesWritten += chunk.length;
    if (this.head === undefined) {
      this.stream.write(chunk, callback);
      return;
    }
    const head = Buffer.concat([this.head, chunk]);
    const end = head.indexOf(HEAD_END);
    if (end < 0) {
      if (head.length > MAX_HEAD_BYTES) return callback(new Error('the app wrote more than 64 KiB without ending a response head'));
      this.head = head;
      return callback();
    }
    this.head = undefined;
    const parsed = parseHead(head.subarray(0, end).toString('latin1'));
    if (parsed === undefined) return callback(new Error('the app answered the upgrade with something that is not an HTTP/1.1 response head'));
    const rest = head.subarray(end + HEAD_END.length);
    if (parsed.status === 101) {
      if (isWebSocket(this.protocol)) markWebSocket(this);
      this.stream.respond({ ...parsed.headers, ':status': 200 });
      if (rest.length > 0) this.stream.write(rest, callback);
      else callback();
      return;
    }
    // Refused: the app's answer goes to the client as it is, its body as the app writes it
    // (a forwarded backend's may come in pieces), and the tunnel is over when the app ends it.
    this.stream.respond({ ...parsed.headers, ':status': parsed.status });
    this.stream.write(rest, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.stream.destroyed || this.stream.writableEnded) return callback();
    this.stream.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const stream = this.stream;
    if (!stream.destroyed && !stream.writableFinished) stream.close(constants.NGHTTP2_CANCEL);
    callback(error);
  }
}

function parseHead(text: string): { status: number; headers: OutgoingHttpHeaders } | undefined {
  const lines = text.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (status === null) return undefined;
  const headers: OutgoingHttpHeaders = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (CONNECTION_HEADERS.has(name) || UPGRADE_ONLY.has(name)) continue;
    const value = line.slice(colon + 1).trim();
    const previous = headers[name];
    headers[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [String(previous)]), value];
  }
  return { status: Number(status[1]), headers };
}
