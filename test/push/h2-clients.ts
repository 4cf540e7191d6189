// HTTP/2 clients for the push tests: node:http2 in this process (pushes collected as they are
// promised), and the nghttp2 project's `nghttp` run as a child process (its -v trace parsed for
// PUSH_PROMISE frames). Every wait is bounded.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect as http2Connect, type ClientHttp2Session, type ClientSessionOptions, type IncomingHttpHeaders, type SecureClientSessionOptions } from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { NGHTTP } from '../tools/tools.ts';

export const H2_TIMEOUT_MS = 5_000;

export interface H2Push {
  /** :path of the PUSH_PROMISE. */
  readonly path: string;
  readonly authority: string;
  readonly scheme: string;
  readonly method: string;
  /** The pushed response, once it ended. */
  readonly response: Promise<H2Response>;
}

export interface H2Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** One HTTP/2 frame the server sent, as the tap saw it on the wire. */
export interface H2Frame {
  readonly type: 'DATA' | 'HEADERS' | 'RST_STREAM' | 'SETTINGS' | 'PUSH_PROMISE' | 'PING' | 'GOAWAY' | 'WINDOW_UPDATE' | 'OTHER';
  readonly streamId: number;
  readonly flags: number;
  /** PUSH_PROMISE only. */
  readonly promisedStreamId?: number;
}

export interface PushCollectingSession {
  readonly session: ClientHttp2Session;
  /** Every push node:http2 accepted on this session, in order. */
  readonly pushes: H2Push[];
  /** Every frame the server sent, whether or not node:http2 accepted it. */
  readonly frames: H2Frame[];
  get(path: string, method?: string): Promise<H2Response>;
  close(): void;
}

/** Connects to `url` (https: offers only h2; http: speaks h2c with prior knowledge). */
export async function connectH2(url: string, options: ClientSessionOptions | SecureClientSessionOptions = {}): Promise<PushCollectingSession> {
  const frames: H2Frame[] = [];
  // node:http2 reads a net.Socket's handle directly, so the tap is a Duplex in between: node then
  // runs the session over it as over any stream, and every byte it reads passes the frame scanner.
  const createConnection = () => {
    const target = new URL(url);
    const port = Number(target.port);
    if (target.protocol !== 'https:') return new FrameTap(netConnect({ host: target.hostname, port }), frames);
    const socket = tlsConnect({ host: target.hostname, port, ALPNProtocols: ['h2'], rejectUnauthorized: false });
    socket.once('secureConnect', () => {
      if (socket.alpnProtocol !== 'h2') socket.destroy(new Error(`the server chose ALPN ${String(socket.alpnProtocol)}, not h2`));
    });
    return new FrameTap(socket, frames);
  };
  const session = http2Connect(url, { ...options, createConnection } as SecureClientSessionOptions);
  session.on('error', () => {}); // its streams report it
  const pushes: H2Push[] = [];
  session.on('stream', (stream, requestHeaders) => {
    const response = new Promise<H2Response>((resolve, reject) => {
      let headers: IncomingHttpHeaders | undefined;
      const chunks: Buffer[] = [];
      stream.on('push', (received: IncomingHttpHeaders) => (headers = received));
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', reject);
      stream.on('end', () => {
        if (headers === undefined) reject(new Error(`push ${String(requestHeaders[':path'])} ended without a response head`));
        else resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks) });
      });
      stream.on('close', () => reject(new Error(`push ${String(requestHeaders[':path'])} closed before it ended (RST code ${stream.rstCode})`)));
    });
    const bounded = withTimeout(response, H2_TIMEOUT_MS, `the pushed ${String(requestHeaders[':path'])}`);
    bounded.catch(() => {}); // a test that ignores a push must not see it as unhandled
    pushes.push({
      path: String(requestHeaders[':path']),
      authority: String(requestHeaders[':authority']),
      scheme: String(requestHeaders[':scheme']),
      method: String(requestHeaders[':method']),
      response: bounded,
    });
  });
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      session.once('connect', () => resolve());
      session.once('error', reject);
    }),
    H2_TIMEOUT_MS,
    `an h2 connection to ${url}`,
  ).catch((error: unknown) => {
    session.destroy();
    throw error;
  });
  return {
    session,
    pushes,
    frames,
    get(path, method = 'GET') {
      const stream = session.request({ ':method': method, ':path': path }, { endStream: true });
      const response = new Promise<H2Response>((resolve, reject) => {
        let headers: IncomingHttpHeaders | undefined;
        const chunks: Buffer[] = [];
        stream.on('response', (received) => (headers = received));
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('error', reject);
        stream.on('end', () => {
          if (headers === undefined) reject(new Error(`${path} ended without a response`));
          else resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks) });
        });
      });
      return withTimeout(response, H2_TIMEOUT_MS, `h2 ${method} ${path}`);
    },
    close: () => session.destroy(),
  };
}

/** By type code (RFC 9113 §6); PRIORITY (2) and anything newer are OTHER. */
const FRAME_TYPES: readonly H2Frame['type'][] = ['DATA', 'HEADERS', 'OTHER', 'RST_STREAM', 'SETTINGS', 'PUSH_PROMISE', 'PING', 'GOAWAY', 'WINDOW_UPDATE'];
const FRAME_HEADER_BYTES = 9;
const FLAG_PADDED = 0x08;

/** A pass-through Duplex over a socket that records the HTTP/2 frames read through it. */
class FrameTap extends Duplex {
  private readonly inner: Socket;
  private readonly frames: H2Frame[];
  private pending: Buffer = Buffer.alloc(0);

  constructor(inner: Socket, frames: H2Frame[]) {
    super();
    this.inner = inner;
    this.frames = frames;
    inner.on('data', (chunk: Buffer) => {
      this.scan(chunk);
      if (!this.push(chunk)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('error', (error) => this.destroy(error));
    inner.on('close', () => this.destroy());
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.inner.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.inner.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.inner.destroy();
    callback(error);
  }

  private scan(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= FRAME_HEADER_BYTES) {
      const length = this.pending.readUIntBE(0, 3);
      if (this.pending.length < FRAME_HEADER_BYTES + length) return;
      const typeCode = this.pending[3];
      const flags = this.pending[4];
      const streamId = this.pending.readUInt32BE(5) & 0x7fff_ffff;
      const type = FRAME_TYPES[typeCode] ?? 'OTHER';
      if (type === 'PUSH_PROMISE') {
        const at = FRAME_HEADER_BYTES + ((flags & FLAG_PADDED) !== 0 ? 1 : 0);
        this.frames.push({ type, streamId, flags, promisedStreamId: this.pending.readUInt32BE(at) & 0x7fff_ffff });
      } else {
        this.frames.push({ type, streamId, flags });
      }
      this.pending = this.pending.subarray(FRAME_HEADER_BYTES + length);
    }
  }
}

export interface NghttpRun {
  /** The :path of every PUSH_PROMISE received, in order. */
  readonly promised: string[];
  /** The SETTINGS nghttp sent, as printed ("SETTINGS_ENABLE_PUSH(0x02):0", …). */
  readonly sentSettings: string[];
  /** Rows of the -s statistics table whose request was pushed (marked `*`), as `status path`. */
  readonly pushedRows: string[];
  /** The :status of the response on the request stream (13 for nghttp's first request). */
  readonly status: number;
  readonly output: string;
}

/** Runs `nghttp -nvs [args] url` and parses its trace (tests that call it skip on NGHTTP.skip). */
export function nghttp(url: string, args: readonly string[] = []): Promise<NghttpRun> {
  return new Promise((resolve, reject) => {
    execFile(NGHTTP.path ?? 'nghttp', ['-nvs', '-t', String(H2_TIMEOUT_MS / 1000), ...args, url], { timeout: H2_TIMEOUT_MS * 2 }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (error !== null) return reject(new Error(`nghttp ${args.join(' ')} ${url} failed: ${error.message}\n${output}`));
      const promised: string[] = [];
      const sentSettings: string[] = [];
      const pushedRows: string[] = [];
      let lastPath: string | undefined;
      let status = 0;
      let sendingSettings = false;
      for (const line of output.split('\n')) {
        const header = /^\[ *[\d.]+\] recv \(stream_id=(\d+)\) (:?[^:]+): (.*)$/.exec(line);
        if (header !== null) {
          if (header[2] === ':path') lastPath = header[3];
          if (header[2] === ':status' && header[1] === '13') status = Number(header[3]);
        }
        if (/recv PUSH_PROMISE frame/.test(line)) {
          assert.ok(lastPath !== undefined, `a PUSH_PROMISE without :path:\n${output}`);
          promised.push(lastPath);
          lastPath = undefined;
        }
        if (/^\[ *[\d.]+\] /.test(line)) sendingSettings = /send SETTINGS frame/.test(line);
        const setting = /^\s+\[(SETTINGS_[A-Z_]+\(0x[\da-f]+\):\d+)\]$/.exec(line);
        if (sendingSettings && setting !== null) sentSettings.push(setting[1]);
        const row = /^\s*\d+\s+\+[\d.]+\w+ \*\s+\+[\d.]+\w+\s+[\d.]+\w+\s+(\d+)\s+\S+\s+(\S+)$/.exec(line);
        if (row !== null) pushedRows.push(`${row[1]} ${row[2]}`);
      }
      resolve({ promised, sentSettings, pushedRows, status, output });
    });
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
