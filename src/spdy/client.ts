// spry's own SPDY client: a TLS connection that negotiates one SPDY version by ALPN and runs a
// SpdyClientSession. Used by the tests and the benchmarks; small on purpose.

import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { connectionInfo } from '../exchange/connection-info.ts';
import { DEFAULTS, type StreamTuning } from '../config/config.ts';
import type { FlatHeaders } from '../exchange/exchange.ts';
import { SpdyClientSession } from './client-session.ts';
import type { SpdySession } from './session.ts';
import type { SpdyStream } from './stream.ts';
import { type SpdyAlpn, SPDY_VERSIONS } from './versions.ts';

export interface SpdyClientOptions {
  readonly host: string;
  readonly port: number;
  readonly protocol: SpdyAlpn;
  /** The :host sent with each request (default host:port). */
  readonly authority?: string;
  readonly tls?: ConnectionOptions;
  readonly tuning?: Partial<StreamTuning>;
  /** Plain SPDY over TCP, no TLS (a server that tells protocols by their first bytes). */
  readonly plain?: boolean;
}

export interface SpdyResponse {
  readonly status: number;
  readonly headers: FlatHeaders;
  readonly body: Buffer;
  readonly streamId: number;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: FlatHeaders;
  /** The request body: bytes, or chunks written with backpressure. */
  readonly body?: Buffer | Iterable<Buffer> | AsyncIterable<Buffer>;
  readonly priority?: number;
}

/** A client session on a connected socket. */
function clientSession(socket: Socket, options: SpdyClientOptions, secure: boolean): SpdyClientSession {
  return new SpdyClientSession(socket, {
    version: SPDY_VERSIONS[options.protocol],
    tuning: { ...DEFAULTS.tuning, ...options.tuning },
    connection: connectionInfo(socket, secure),
  });
}

export class SpdyClient {
  readonly session: SpdyClientSession;
  readonly authority: string;

  private constructor(session: SpdyClientSession, authority: string) {
    this.session = session;
    this.authority = authority;
  }

  static connect(options: SpdyClientOptions): Promise<SpdyClient> {
    return new Promise((resolve, reject) => {
      const ready = (socket: Socket, secure: boolean): void => {
        socket.off('error', reject);
        resolve(new SpdyClient(clientSession(socket, options, secure), options.authority ?? `${options.host}:${options.port}`));
      };
      if (options.plain === true) {
        const socket = netConnect({ host: options.host, port: options.port });
        socket.once('error', reject);
        socket.once('connect', () => ready(socket, false));
        return;
      }
      const socket: TLSSocket = tlsConnect({
        host: options.host,
        port: options.port,
        ALPNProtocols: [options.protocol],
        rejectUnauthorized: false,
        ...options.tls,
      });
      socket.once('error', reject);
      socket.once('secureConnect', () => {
        if (socket.alpnProtocol !== options.protocol) {
          socket.destroy();
          reject(new Error(`the server did not agree to ${options.protocol} (ALPN: ${socket.alpnProtocol || 'none'})`));
          return;
        }
        ready(socket, true);
      });
    });
  }

  /** Opens a stream; the caller drives its body and reads its response. */
  open(path: string, options: RequestOptions & { endStream?: boolean } = {}): SpdyStream {
    return this.session.request(
      { method: options.method ?? 'GET', path, host: this.authority },
      options.headers ?? [],
      { endStream: options.endStream ?? options.body === undefined, priority: options.priority },
    );
  }

  /** Sends a request and collects the whole response. */
  request(path: string, options: RequestOptions = {}): Promise<SpdyResponse> {
    const stream = this.open(path, options);
    const response = collectResponse(stream, this.session);
    if (options.body !== undefined) void writeBody(stream, options.body);
    return response;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.session.destroyed) return resolve();
      this.session.once('close', () => resolve());
      this.session.close();
    });
  }
}

/** Resolves with the status, headers and body of a stream's response; rejects if it is reset. */
export async function collectResponse(stream: SpdyStream, session: SpdySession): Promise<SpdyResponse> {
  let headers: FlatHeaders | undefined;
  stream.onResponse = (received) => {
    headers = received;
  };
  const body = await readBody(stream);
  if (headers === undefined) throw new Error(`stream ${stream.id} ended without a reply`);
  return { status: statusOf(session, headers), headers, body, streamId: stream.id };
}

/** Resolves with everything the peer sends on `stream` (a response, or a push); rejects if it is reset. */
export function readBody(stream: SpdyStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.onAbort = reject;
    stream.setBodySink({
      data(chunk) {
        chunks.push(chunk);
        return true;
      },
      end: () => resolve(Buffer.concat(chunks)),
    });
  });
}

export function statusOf(session: SpdySession, headers: FlatHeaders): number {
  const name = session.version.headers.status;
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return Number.parseInt(headers[i + 1], 10);
  return 0;
}

/** Writes a body with backpressure, then FIN. */
export async function writeBody(stream: SpdyStream, body: Buffer | Iterable<Buffer> | AsyncIterable<Buffer>): Promise<void> {
  if (Buffer.isBuffer(body)) {
    stream.end(body);
    return;
  }
  for await (const chunk of body) {
    if (stream.aborted) return;
    if (!stream.write(chunk)) {
      await new Promise<void>((resolve) => {
        stream.onDrain = resolve;
        const onAbort = stream.onAbort;
        stream.onAbort = (reason) => {
          resolve();
          onAbort?.(reason);
        };
      });
    }
  }
  stream.end();
}

/** Re-exported for the client's users: reading a header out of a response. */
export { headerValue } from '../exchange/flat-headers.ts';
