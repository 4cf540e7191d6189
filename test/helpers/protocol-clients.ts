// One small client interface, five implementations: the conformance suite and the framework
// tests run the same cases through whichever protocol ALPN settles on. Each implementation
// checks that the server agreed to the protocol it asked for, so a case can never pass by
// silently falling back to HTTP/1.1.
//
// Headers go both ways as `[name, value]` pairs, repeated names repeated; response names are
// lower case and the protocol's own fields (h2's :status, SPDY's status/version or
// :status/:version) are left out, so every protocol's answer reads the same.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as http2Connect, constants as http2Constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { SpdyClient, writeBody } from '../../src/spdy/client.ts';
import { RstStatus } from '../../src/spdy/constants.ts';
import type { SpdyStream } from '../../src/spdy/stream.ts';

export type ProtocolName = 'h2' | 'spdy/3.1' | 'spdy/3' | 'spdy/2' | 'http/1.1';

/** Every protocol the TLS port speaks, in the server's order of preference. */
export const PROTOCOLS: readonly ProtocolName[] = ['h2', 'spdy/3.1', 'spdy/3', 'spdy/2', 'http/1.1'];

export type HeaderPairs = [name: string, value: string][];

export interface ClientRequest {
  /** Default GET. */
  readonly method?: string;
  /** Path and query. */
  readonly path: string;
  readonly headers?: HeaderPairs;
  /** Bytes, or chunks written with backpressure. None: the request ends with its headers. */
  readonly body?: Buffer | AsyncIterable<Buffer>;
  /**
   * Takes each response body chunk as it arrives, instead of collecting them: for bodies too
   * large to hold (the response's `body` is then empty).
   */
  readonly onBody?: (chunk: Buffer) => void;
}

export interface ClientResponse {
  readonly status: number;
  readonly headers: HeaderPairs;
  readonly body: Buffer;
}

export interface ProtocolClient {
  readonly protocol: ProtocolName;
  /**
   * Resolves once the response has ended and, on SPDY and h2, the stream is closed too: our
   * body all sent, or the server stopped it (RST_STREAM after a complete response,
   * RFC 9113 §8.1). A server that answers but leaves an upload hanging is caught here.
   */
  request(request: ClientRequest): Promise<ClientResponse>;
  /**
   * GETs `path`, reads at least `afterBytes` of the body, then resets the stream (SPDY
   * RST_STREAM CANCEL, h2 RST_STREAM CANCEL) or, on HTTP/1.1, destroys the connection.
   * Rejects if the response ends before that many bytes.
   */
  resetMidResponse(path: string, afterBytes: number): Promise<void>;
  /** Closes gracefully (GOAWAY), and hard after CLOSE_GRACE_MS if streams are still open. */
  close(): Promise<void>;
}

/** How long close() lets open streams finish before it destroys the connection. */
export const CLOSE_GRACE_MS = 250;

export interface ServerAddress {
  readonly host: string;
  readonly port: number;
}

export function connectClient(protocol: ProtocolName, server: ServerAddress): Promise<ProtocolClient> {
  switch (protocol) {
    case 'h2':
      return Http2ProtocolClient.connect(server);
    case 'http/1.1':
      return Promise.resolve(new Http1ProtocolClient(server));
    default:
      return SpdyProtocolClient.connect(protocol, server);
  }
}

/** All values of `name` (lower case) in a response, in order. */
export function headerValues(headers: HeaderPairs, name: string): string[] {
  return headers.filter(([n]) => n === name).map(([, value]) => value);
}

/** The one value of `name`, or the values joined with ', ' as HTTP allows for repeated fields. */
export function headerValue(headers: HeaderPairs, name: string): string | undefined {
  const values = headerValues(headers, name);
  return values.length === 0 ? undefined : values.join(', ');
}

// ── SPDY/2, /3, /3.1: our own client ────────────────────────────────────────

class SpdyProtocolClient implements ProtocolClient {
  readonly protocol: ProtocolName;
  private readonly client: SpdyClient;

  private constructor(protocol: ProtocolName, client: SpdyClient) {
    this.protocol = protocol;
    this.client = client;
  }

  static async connect(protocol: 'spdy/3.1' | 'spdy/3' | 'spdy/2', server: ServerAddress): Promise<SpdyProtocolClient> {
    // SpdyClient.connect rejects unless the server agreed to exactly this ALPN id.
    const client = await SpdyClient.connect({ host: server.host, port: server.port, protocol });
    assert.equal(client.session.version.alpn, protocol);
    return new SpdyProtocolClient(protocol, client);
  }

  request(request: ClientRequest): Promise<ClientResponse> {
    const stream = this.client.open(request.path, {
      method: request.method ?? 'GET',
      headers: (request.headers ?? []).flat(),
      endStream: request.body === undefined,
    });
    const response = this.readResponse(stream, request.onBody);
    if (request.body !== undefined) writeBody(stream, request.body).catch(() => stream.abort());
    return response;
  }

  resetMidResponse(path: string, afterBytes: number): Promise<void> {
    const stream = this.client.open(path);
    return new Promise((resolve, reject) => {
      let received = 0;
      let reset = false;
      stream.onAbort = (reason) => {
        if (!reset) reject(reason);
      };
      stream.setBodySink({
        data: (chunk) => {
          received += chunk.length;
          if (!reset && received >= afterBytes) {
            reset = true;
            this.client.session.resetStream(stream, RstStatus.CANCEL);
            resolve();
          }
          return true;
        },
        end: () => {
          if (!reset) reject(new Error(`${path} ended after ${received} bytes, before ${afterBytes}`));
        },
      });
    });
  }

  close(): Promise<void> {
    const timer = setTimeout(() => this.client.session.destroy(), CLOSE_GRACE_MS);
    return this.client.close().finally(() => clearTimeout(timer));
  }

  private readResponse(stream: SpdyStream, onBody: ((chunk: Buffer) => void) | undefined): Promise<ClientResponse> {
    const names = this.client.session.version.headers;
    return new Promise((resolve, reject) => {
      let status = 0;
      let headers: HeaderPairs | undefined;
      let response: ClientResponse | undefined;
      const chunks: Buffer[] = [];
      stream.onResponse = (flat) => {
        headers = [];
        for (let i = 0; i < flat.length; i += 2) {
          if (flat[i] === names.status) status = Number.parseInt(flat[i + 1], 10);
          else if (flat[i] !== names.version) headers.push([flat[i], flat[i + 1]]);
        }
      };
      // A reset after the whole response is the server declining the rest of our upload.
      stream.onAbort = (reason) => (response !== undefined ? resolve(response) : reject(reason));
      stream.setBodySink({
        data(chunk) {
          if (onBody !== undefined) onBody(chunk);
          else chunks.push(chunk);
          return true;
        },
        end() {
          if (headers === undefined) return reject(new Error(`stream ${stream.id} ended without a SYN_REPLY`));
          response = { status, headers, body: Buffer.concat(chunks) };
          whenClosed(stream, () => resolve(response!));
        },
      });
    });
  }
}

/** SpdyStream has no close event: the response is in, so look until our side has gone out too. */
function whenClosed(stream: SpdyStream, callback: () => void): void {
  if (stream.closed) return callback();
  const timer = setInterval(() => {
    if (!stream.closed) return;
    clearInterval(timer);
    callback();
  }, 2);
}

// ── h2: node:http2 ──────────────────────────────────────────────────────────

class Http2ProtocolClient implements ProtocolClient {
  readonly protocol = 'h2' as const;
  private readonly session: ClientHttp2Session;

  private constructor(session: ClientHttp2Session) {
    this.session = session;
  }

  static async connect(server: ServerAddress): Promise<Http2ProtocolClient> {
    const session = http2Connect(`https://${server.host}:${server.port}`, { ALPNProtocols: ['h2'], rejectUnauthorized: false });
    const failed = once(session, 'error').then(([error]) => Promise.reject(error as Error));
    await Promise.race([once(session, 'connect'), failed]);
    failed.catch(() => {});
    session.on('error', () => {}); // a dead session fails its streams, which report it
    assert.equal(session.alpnProtocol, 'h2');
    return new Http2ProtocolClient(session);
  }

  request(request: ClientRequest): Promise<ClientResponse> {
    // A raw header list keeps repeated names as separate fields, in order.
    const raw = [':method', request.method ?? 'GET', ':path', request.path, ...(request.headers ?? []).flat()];
    const stream = this.session.request(raw, { endStream: request.body === undefined });
    const response = readHttp2Response(stream, request.onBody);
    if (request.body !== undefined) writeNodeBody(stream, request.body);
    return response;
  }

  resetMidResponse(path: string, afterBytes: number): Promise<void> {
    const stream = this.session.request([':method', 'GET', ':path', path], { endStream: true });
    return new Promise((resolve, reject) => {
      let received = 0;
      let reset = false;
      stream.on('error', (error) => {
        if (!reset) reject(error);
      });
      stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (!reset && received >= afterBytes) {
          reset = true;
          stream.close(http2Constants.NGHTTP2_CANCEL, () => resolve());
        }
      });
      stream.on('end', () => {
        if (!reset) reject(new Error(`${path} ended after ${received} bytes, before ${afterBytes}`));
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      // A session whose connection died is destroyed without being closed: its 'close' is past.
      if (this.session.closed || this.session.destroyed) return resolve();
      const timer = setTimeout(() => this.session.destroy(), CLOSE_GRACE_MS);
      this.session.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.session.close();
    });
  }
}

function readHttp2Response(stream: ClientHttp2Stream, onBody: ((chunk: Buffer) => void) | undefined): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let response: ClientResponse | undefined;
    const headers: HeaderPairs = [];
    const chunks: Buffer[] = [];
    stream.on('response', (_object, _flags, raw: string[]) => {
      for (let i = 0; i < raw.length; i += 2) {
        if (raw[i] === ':status') status = Number(raw[i + 1]);
        else headers.push([raw[i], raw[i + 1]]);
      }
    });
    stream.on('data', (chunk: Buffer) => {
      if (onBody !== undefined) onBody(chunk);
      else chunks.push(chunk);
    });
    stream.on('end', () => {
      response = { status, headers, body: Buffer.concat(chunks) };
    });
    // After a complete response, a reset is the server declining the rest of our upload.
    stream.on('error', (error) => {
      if (response === undefined) reject(error);
    });
    stream.on('close', () => {
      if (response !== undefined) resolve(response);
      else reject(new Error(`stream ${stream.id} closed (code ${stream.rstCode}) before its response ended`));
    });
  });
}

// ── HTTP/1.1: node:https with a keep-alive agent ─────────────────────────────

/**
 * HTTP/1.1 has no multiplexing: concurrent requests queue for this many keep-alive connections
 * of the one agent (each a TLS handshake, so not one per request).
 */
const HTTP1_MAX_SOCKETS = 16;

class Http1ProtocolClient implements ProtocolClient {
  readonly protocol = 'http/1.1' as const;
  private readonly server: ServerAddress;
  private readonly agent: HttpsAgent;

  constructor(server: ServerAddress) {
    this.server = server;
    this.agent = new HttpsAgent({ keepAlive: true, maxSockets: HTTP1_MAX_SOCKETS, ALPNProtocols: ['http/1.1'], rejectUnauthorized: false });
  }

  request(request: ClientRequest): Promise<ClientResponse> {
    return new Promise((resolve, reject) => {
      const req = this.open(request.method ?? 'GET', request.path, request.headers ?? []);
      req.on('error', reject);
      req.on('response', (res: IncomingMessage) => {
        const mismatch = alpnMismatch(res);
        if (mismatch !== undefined) {
          res.destroy();
          return reject(mismatch);
        }
        const status = res.statusCode ?? 0;
        const headers: HeaderPairs = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) headers.push([res.rawHeaders[i].toLowerCase(), res.rawHeaders[i + 1]]);
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          if (request.onBody !== undefined) request.onBody(chunk);
          else chunks.push(chunk);
        });
        res.on('end', () => resolve({ status, headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      if (request.body === undefined) req.end();
      else if (Buffer.isBuffer(request.body)) req.end(request.body);
      else writeNodeBody(req, request.body);
    });
  }

  resetMidResponse(path: string, afterBytes: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = this.open('GET', path, []);
      let reset = false;
      req.on('error', (error) => {
        if (!reset) reject(error);
      });
      req.on('response', (res: IncomingMessage) => {
        const mismatch = alpnMismatch(res);
        if (mismatch !== undefined) {
          res.destroy();
          return reject(mismatch);
        }
        let received = 0;
        res.on('error', () => {}); // our own destroy
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (!reset && received >= afterBytes) {
            reset = true;
            res.socket.once('close', () => resolve());
            res.destroy();
          }
        });
        res.on('end', () => reject(new Error(`${path} ended after ${received} bytes, before ${afterBytes}`)));
      });
      req.end();
    });
  }

  close(): Promise<void> {
    this.agent.destroy();
    return Promise.resolve();
  }

  private open(method: string, path: string, headers: HeaderPairs): ReturnType<typeof httpsRequest> {
    const { host, port } = this.server;
    // A raw header list keeps repeated names as separate lines; it then needs its own Host.
    const raw = ['host', `${host}:${port}`, ...headers.flat()];
    return httpsRequest({ host, port, method, path, headers: raw, agent: this.agent });
  }
}

function alpnMismatch(res: IncomingMessage): Error | undefined {
  const alpn = (res.socket as TLSSocket).alpnProtocol;
  return alpn === 'http/1.1' ? undefined : new Error(`the server did not agree to http/1.1 (ALPN: ${alpn || 'none'})`);
}

/** Writes an HTTP request body into a Node writable with backpressure, then ends it. */
function writeNodeBody(sink: NodeJS.WritableStream & { destroy(error?: Error): void; destroyed: boolean }, body: Buffer | AsyncIterable<Buffer>): void {
  if (Buffer.isBuffer(body)) {
    sink.end(body);
    return;
  }
  void (async () => {
    for await (const chunk of body) {
      if (sink.destroyed) return;
      if (!sink.write(chunk)) await once(sink as NodeJS.EventEmitter, 'drain');
    }
    sink.end();
  })().catch((error: Error) => sink.destroy(error));
}
