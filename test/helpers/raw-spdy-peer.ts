// A raw SPDY client peer for protocol probes against a real spry listener: it writes exactly the
// bytes a test gives it (with builders for well-formed client frames, compressed by its own
// header deflater), and records everything the server sends, decoded by the project's
// FrameDecoder and inflated by its own HeaderInflater.
//
// Every wait is bounded: a probe that gets no answer fails with a timeout that lists what did
// arrive, instead of hanging the test run.

import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { FrameType } from '../../src/spdy/constants.ts';
import { HeaderDeflater, HeaderInflater } from '../../src/spdy/compression.ts';
import { FrameDecoder } from '../../src/spdy/frame-decoder.ts';
import {
  encodeDataHeader,
  encodeGoaway,
  encodeHeaders,
  encodePing,
  encodeRstStream,
  encodeSettings,
  encodeSynStream,
  encodeWindowUpdate,
} from '../../src/spdy/frame-encoder.ts';
import type { ControlFrame, FrameSink, SettingsEntry } from '../../src/spdy/frames.ts';
import { decodeHeaderBlock, encodeHeaderBlock, type FlatHeaders } from '../../src/spdy/header-block.ts';
import type { SpdyProtocolError } from '../../src/spdy/protocol-error.ts';
import { SPDY_VERSIONS, type SpdyAlpn, type SpdyVersion } from '../../src/spdy/versions.ts';

/** How long any wait lasts unless a test says otherwise. */
export const DEFAULT_WAIT_MS = 3000;

/** Big enough for anything a server sends; the peer is not the thing under test. */
const PEER_MAX_CONTROL_FRAME_BYTES = 16 << 20;
const PEER_MAX_HEADER_BLOCK_BYTES = 16 << 20;
const PEER_HEADER_LIMITS = { maxHeaderCount: 100_000 };
/** How many received bytes are kept verbatim for golden-byte assertions. */
const RAW_KEEP_BYTES = 4096;

interface Arrival {
  /** Position among everything received on this connection, from 0. */
  readonly seq: number;
  /** performance.now() when it was decoded. */
  readonly atMs: number;
}

export type ReceivedFrame = Arrival &
  (
    | { readonly type: 'DATA'; readonly streamId: number; readonly fin: boolean; readonly data: Buffer }
    | {
        readonly type: 'SYN_STREAM';
        readonly streamId: number;
        readonly associatedStreamId: number;
        readonly priority: number;
        readonly fin: boolean;
        readonly unidirectional: boolean;
        readonly headers: FlatHeaders;
      }
    | { readonly type: 'SYN_REPLY'; readonly streamId: number; readonly fin: boolean; readonly headers: FlatHeaders }
    | { readonly type: 'HEADERS'; readonly streamId: number; readonly fin: boolean; readonly headers: FlatHeaders }
    | { readonly type: 'RST_STREAM'; readonly streamId: number; readonly status: number }
    | { readonly type: 'SETTINGS'; readonly clearSettings: boolean; readonly entries: readonly SettingsEntry[] }
    | { readonly type: 'PING'; readonly id: number }
    | { readonly type: 'GOAWAY'; readonly lastGoodStreamId: number; readonly status: number | undefined }
    | { readonly type: 'WINDOW_UPDATE'; readonly streamId: number; readonly delta: number }
    | { readonly type: 'NOOP' | 'CREDENTIAL' }
    /** The server sent something this peer could not decode (always a server bug). */
    | { readonly type: 'DECODE_ERROR'; readonly message: string }
  );

export type FrameOf<T extends ReceivedFrame['type']> = Extract<ReceivedFrame, { type: T }>;

export interface PeerResponse {
  readonly streamId: number;
  /** The numeric part of :status / status. */
  readonly status: number;
  readonly headers: FlatHeaders;
  readonly body: Buffer;
}

interface Waiter {
  readonly check: () => boolean;
  readonly fail: (reason: Error) => void;
}

/** The start of a DATA frame the decoder is about to deliver in pieces. */
interface PendingData {
  readonly streamId: number;
  readonly length: number;
  readonly fin: boolean;
}

const CONTROL_NAMES: Record<number, ReceivedFrame['type']> = {
  [FrameType.SYN_STREAM]: 'SYN_STREAM',
  [FrameType.SYN_REPLY]: 'SYN_REPLY',
  [FrameType.RST_STREAM]: 'RST_STREAM',
  [FrameType.SETTINGS]: 'SETTINGS',
  [FrameType.NOOP]: 'NOOP',
  [FrameType.PING]: 'PING',
  [FrameType.GOAWAY]: 'GOAWAY',
  [FrameType.HEADERS]: 'HEADERS',
  [FrameType.WINDOW_UPDATE]: 'WINDOW_UPDATE',
  [FrameType.CREDENTIAL]: 'CREDENTIAL',
};

export class RawSpdyPeer implements FrameSink {
  readonly version: SpdyVersion;
  readonly socket: Socket;
  /** Everything the server sent, in order. */
  readonly frames: ReceivedFrame[] = [];
  /** The first RAW_KEEP_BYTES bytes received, verbatim. */
  rawPrefix: Buffer = Buffer.alloc(0);
  /** Set once the socket closed. */
  isClosed = false;

  private readonly decoder: FrameDecoder;
  private readonly inflater: HeaderInflater;
  private readonly deflater: HeaderDeflater;
  private readonly taken = new Set<number>();
  private readonly waiters = new Set<Waiter>();
  private readonly closeWaiters: (() => void)[] = [];

  // DATA frame boundaries, found by a scan of the raw bytes that runs ahead of the decoder.
  private readonly pendingData: PendingData[] = [];
  private dataPieces: Buffer[] = [];
  private dataCollected = 0;
  private readonly scanHeader = Buffer.alloc(8);
  private scanHeaderFill = 0;
  private scanSkip = 0;

  private constructor(socket: Socket, version: SpdyVersion) {
    this.socket = socket;
    this.version = version;
    this.decoder = new FrameDecoder(version, this, { maxControlFrameBytes: PEER_MAX_CONTROL_FRAME_BYTES });
    this.inflater = new HeaderInflater(version.dictionary, PEER_MAX_HEADER_BLOCK_BYTES);
    this.deflater = new HeaderDeflater(version.dictionary);
    socket.on('data', (chunk: Buffer) => this.onSocketData(chunk));
    socket.on('error', () => {}); // 'close' follows
    socket.on('close', () => this.onSocketClose());
  }

  /** Opens a TLS connection that offers only `alpn`, and checks the server agreed to it. */
  static connect(port: number, alpn: SpdyAlpn, timeoutMs = DEFAULT_WAIT_MS): Promise<RawSpdyPeer> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, ALPNProtocols: [alpn], rejectUnauthorized: false });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`TLS connection with ALPN ${alpn} not established within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        if (socket.alpnProtocol !== alpn) {
          socket.destroy();
          reject(new Error(`the server chose ALPN ${String(socket.alpnProtocol)}, not ${alpn}`));
          return;
        }
        // Created before any data event can fire: 'data' is attached synchronously here.
        resolve(new RawSpdyPeer(socket, SPDY_VERSIONS[alpn]));
      });
    });
  }

  /** A peer over a connected plain socket (no TLS, no ALPN), speaking `alpn`'s version. */
  static over(socket: Socket, alpn: SpdyAlpn): RawSpdyPeer {
    return new RawSpdyPeer(socket, SPDY_VERSIONS[alpn]);
  }

  // ── writing ──────────────────────────────────────────────────────────────

  /** Writes exact bytes (several buffers go out as one write). */
  write(...buffers: Buffer[]): void {
    this.socket.write(buffers.length === 1 ? buffers[0] : Buffer.concat(buffers));
  }

  /** The reserved request headers of this version for `path`, then `extra`. */
  requestHeaders(path: string, options: { method?: string; extra?: FlatHeaders } = {}): FlatHeaders {
    const n = this.version.headers;
    return [n.method, options.method ?? 'GET', n.path, path, n.version, 'HTTP/1.1', n.host, 'localhost', n.scheme, 'https', ...(options.extra ?? [])];
  }

  /**
   * A SYN_STREAM carrying `headers` as given (no validation, so tests can send bad names).
   * Compresses with this peer's deflater: every frame built must be sent, in the order built,
   * or the server's inflater falls out of step.
   */
  synStream(id: number, headers: FlatHeaders, options: { fin?: boolean; associatedStreamId?: number; unidirectional?: boolean; priority?: number } = {}): Buffer {
    const block = Buffer.from(this.deflater.deflate(encodeHeaderBlock(this.version, headers))); // copy: shared scratch
    return this.synStreamWithBlock(id, block, options);
  }

  /** A SYN_STREAM whose compressed header block is exactly `block` (for garbage probes). */
  synStreamWithBlock(id: number, block: Uint8Array, options: { fin?: boolean; associatedStreamId?: number; unidirectional?: boolean; priority?: number } = {}): Buffer {
    return encodeSynStream(
      this.version,
      { streamId: id, associatedStreamId: options.associatedStreamId ?? 0, priority: options.priority ?? 0, fin: options.fin ?? false, unidirectional: options.unidirectional ?? false },
      block,
    );
  }

  /** A GET (or `method`) request for `path` with FIN on the SYN_STREAM. */
  request(id: number, path: string, options: { method?: string; extra?: FlatHeaders; fin?: boolean } = {}): Buffer {
    return this.synStream(id, this.requestHeaders(path, options), { fin: options.fin ?? true });
  }

  /** A HEADERS frame (compressed with this peer's deflater: send it, as for synStream). */
  headers(id: number, headers: FlatHeaders, options: { fin?: boolean } = {}): Buffer {
    const block = Buffer.from(this.deflater.deflate(encodeHeaderBlock(this.version, headers)));
    return encodeHeaders(this.version, id, options.fin ?? false, block);
  }

  data(id: number, bytes: Buffer | string, fin = false): Buffer {
    const payload = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    return Buffer.concat([encodeDataHeader(id, payload.length, fin), payload]);
  }

  ping(id: number): Buffer {
    return encodePing(this.version, id);
  }

  rst(id: number, status: number): Buffer {
    return encodeRstStream(this.version, id, status);
  }

  settings(entries: readonly { id: number; value: number; flags?: number }[]): Buffer {
    return encodeSettings(
      this.version,
      entries.map(({ id, value, flags }) => ({ id, value, flags: flags ?? 0 })),
    );
  }

  windowUpdate(id: number, delta: number): Buffer {
    return encodeWindowUpdate(this.version, id, delta);
  }

  goaway(lastGoodStreamId = 0, status = 0): Buffer {
    return encodeGoaway(this.version, lastGoodStreamId, status);
  }

  /** Destroys the connection (idempotent). */
  close(): void {
    this.socket.destroy();
  }

  // ── waiting ──────────────────────────────────────────────────────────────

  /**
   * The earliest frame not yet returned by nextFrame that matches; waits for it up to
   * `timeoutMs`. Rejects on timeout or when the connection closes without one.
   */
  nextFrame<F extends ReceivedFrame = ReceivedFrame>(predicate: (frame: ReceivedFrame) => boolean, timeoutMs = DEFAULT_WAIT_MS, what = 'a matching frame'): Promise<F> {
    let found: ReceivedFrame | undefined;
    const find = (): boolean => {
      for (const frame of this.frames) {
        if (!this.taken.has(frame.seq) && predicate(frame)) {
          this.taken.add(frame.seq);
          found = frame;
          return true;
        }
      }
      return false;
    };
    return this.waitFor(find, timeoutMs, what).then(() => found as F);
  }

  /** Waits for the next frame of `type` (and on `streamId`, when given). */
  nextOfType<T extends ReceivedFrame['type']>(type: T, streamId?: number, timeoutMs = DEFAULT_WAIT_MS): Promise<FrameOf<T>> {
    const what = streamId === undefined ? type : `${type} on stream ${streamId}`;
    return this.nextFrame<FrameOf<T>>((frame) => frame.type === type && (streamId === undefined || ('streamId' in frame && frame.streamId === streamId)), timeoutMs, what);
  }

  /** Resolves once `condition` holds (checked now and after every frame), or rejects on timeout. */
  until(condition: () => boolean, timeoutMs = DEFAULT_WAIT_MS, what = 'a condition'): Promise<void> {
    return this.waitFor(condition, timeoutMs, what);
  }

  /** Resolves when the connection has closed; rejects if it is still open after `timeoutMs`. */
  closed(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the connection was still open after ${timeoutMs} ms; received: ${this.describe()}`)), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Collects the response on `streamId`: its SYN_REPLY and DATA up to FIN. Rejects if the
   * server resets the stream instead.
   */
  async response(streamId: number, timeoutMs = DEFAULT_WAIT_MS): Promise<PeerResponse> {
    let reply: FrameOf<'SYN_REPLY'> | undefined;
    let reset: FrameOf<'RST_STREAM'> | undefined;
    const done = (): boolean => {
      reset = this.frames.find((f): f is FrameOf<'RST_STREAM'> => f.type === 'RST_STREAM' && f.streamId === streamId);
      if (reset !== undefined) return true;
      reply = this.frames.find((f): f is FrameOf<'SYN_REPLY'> => f.type === 'SYN_REPLY' && f.streamId === streamId);
      if (reply === undefined) return false;
      return reply.fin || this.frames.some((f) => f.type === 'DATA' && f.streamId === streamId && f.fin);
    };
    await this.waitFor(done, timeoutMs, `a complete response on stream ${streamId}`);
    if (reset !== undefined) throw new Error(`stream ${streamId} was reset with status ${reset.status}`);
    const headers = reply!.headers;
    const statusName = this.version.headers.status;
    const statusIndex = headers.indexOf(statusName);
    return {
      streamId,
      status: statusIndex >= 0 && statusIndex % 2 === 0 ? Number.parseInt(headers[statusIndex + 1], 10) : 0,
      headers,
      body: this.body(streamId),
    };
  }

  // ── inspecting ───────────────────────────────────────────────────────────

  /** All received frames of `type` (on `streamId`, when given). */
  framesOf<T extends ReceivedFrame['type']>(type: T, streamId?: number): FrameOf<T>[] {
    return this.frames.filter((frame): frame is FrameOf<T> => frame.type === type && (streamId === undefined || ('streamId' in frame && frame.streamId === streamId)));
  }

  /** DATA payload bytes received on `streamId`, or on every stream when omitted. */
  dataBytes(streamId?: number): number {
    let total = 0;
    for (const frame of this.frames) if (frame.type === 'DATA' && (streamId === undefined || frame.streamId === streamId)) total += frame.data.length;
    return total;
  }

  /** The concatenated DATA payloads of `streamId`. */
  body(streamId: number): Buffer {
    return Buffer.concat(this.framesOf('DATA', streamId).map((frame) => frame.data));
  }

  /** A one-line summary of what arrived, for failure messages. */
  describe(limit = 40): string {
    const parts = this.frames.slice(-limit).map((frame) => {
      switch (frame.type) {
        case 'DATA':
          return `DATA(${frame.streamId}, ${frame.data.length}${frame.fin ? ', FIN' : ''})`;
        case 'SYN_REPLY':
        case 'HEADERS':
        case 'SYN_STREAM':
          return `${frame.type}(${frame.streamId}${frame.fin ? ', FIN' : ''})`;
        case 'RST_STREAM':
          return `RST_STREAM(${frame.streamId}, ${frame.status})`;
        case 'SETTINGS':
          return `SETTINGS(${frame.entries.map((e) => `${e.id}=${e.value}`).join(' ')})`;
        case 'PING':
          return `PING(${frame.id})`;
        case 'GOAWAY':
          return `GOAWAY(${frame.lastGoodStreamId}, ${frame.status})`;
        case 'WINDOW_UPDATE':
          return `WINDOW_UPDATE(${frame.streamId}, ${frame.delta})`;
        case 'DECODE_ERROR':
          return `DECODE_ERROR(${frame.message})`;
        default:
          return frame.type;
      }
    });
    const skipped = this.frames.length > limit ? `… ${this.frames.length - limit} earlier, ` : '';
    return `${skipped}[${parts.join(', ')}]${this.isClosed ? ' then close' : ''}`;
  }

  // ── FrameSink ────────────────────────────────────────────────────────────

  onControlFrame(frame: ControlFrame): void {
    const type = CONTROL_NAMES[frame.type];
    switch (frame.type) {
      case FrameType.SYN_STREAM:
      case FrameType.SYN_REPLY:
      case FrameType.HEADERS: {
        let headers: FlatHeaders;
        try {
          headers = decodeHeaderBlock(this.version, this.inflater.inflate(frame.headerBlock), frame.streamId, PEER_HEADER_LIMITS);
        } catch (error) {
          this.record({ type: 'DECODE_ERROR', message: `${type} on stream ${frame.streamId}: ${(error as Error).message}` });
          return;
        }
        if (frame.type === FrameType.SYN_STREAM) {
          const { streamId, associatedStreamId, priority, fin, unidirectional } = frame;
          this.record({ type: 'SYN_STREAM', streamId, associatedStreamId, priority, fin, unidirectional, headers });
        } else if (frame.type === FrameType.SYN_REPLY) {
          this.record({ type: 'SYN_REPLY', streamId: frame.streamId, fin: frame.fin, headers });
        } else {
          this.record({ type: 'HEADERS', streamId: frame.streamId, fin: frame.fin, headers });
        }
        return;
      }
      case FrameType.RST_STREAM:
        return this.record({ type: 'RST_STREAM', streamId: frame.streamId, status: frame.status });
      case FrameType.SETTINGS:
        return this.record({ type: 'SETTINGS', clearSettings: frame.clearSettings, entries: frame.entries.map((entry) => ({ ...entry })) });
      case FrameType.PING:
        return this.record({ type: 'PING', id: frame.id });
      case FrameType.GOAWAY:
        return this.record({ type: 'GOAWAY', lastGoodStreamId: frame.lastGoodStreamId, status: frame.status });
      case FrameType.WINDOW_UPDATE:
        return this.record({ type: 'WINDOW_UPDATE', streamId: frame.streamId, delta: frame.delta });
      case FrameType.NOOP:
        return this.record({ type: 'NOOP' });
      case FrameType.CREDENTIAL:
        return this.record({ type: 'CREDENTIAL' });
    }
  }

  onData(streamId: number, chunk: Uint8Array, _fin: boolean): void {
    const pending = this.pendingData[0];
    if (pending === undefined || pending.streamId !== streamId) {
      this.record({ type: 'DECODE_ERROR', message: `DATA piece on stream ${streamId} that the boundary scan did not see` });
      return;
    }
    if (chunk.length > 0) this.dataPieces.push(Buffer.from(chunk)); // copy: a view into the socket's chunk
    this.dataCollected += chunk.length;
    if (this.dataCollected < pending.length) return;
    this.pendingData.shift();
    const data = this.dataPieces.length === 1 ? this.dataPieces[0] : Buffer.concat(this.dataPieces);
    this.dataPieces = [];
    this.dataCollected = 0;
    this.record({ type: 'DATA', streamId, fin: pending.fin, data });
  }

  onProtocolError(error: SpdyProtocolError): void {
    this.record({ type: 'DECODE_ERROR', message: `${error.code}: ${error.message}` });
  }

  // ── internals ────────────────────────────────────────────────────────────

  private onSocketData(chunk: Buffer): void {
    if (this.rawPrefix.length < RAW_KEEP_BYTES) {
      this.rawPrefix = Buffer.concat([this.rawPrefix, chunk.subarray(0, RAW_KEEP_BYTES - this.rawPrefix.length)]);
    }
    this.scanDataBoundaries(chunk);
    this.decoder.push(chunk);
  }

  /**
   * Notes the stream, length and FIN of every DATA frame header in `chunk` before the decoder
   * sees it, so the pieces the decoder hands out can be joined back into whole frames.
   */
  private scanDataBoundaries(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.scanSkip > 0) {
        const take = Math.min(this.scanSkip, chunk.length - offset);
        this.scanSkip -= take;
        offset += take;
        continue;
      }
      const take = Math.min(8 - this.scanHeaderFill, chunk.length - offset);
      chunk.copy(this.scanHeader, this.scanHeaderFill, offset, offset + take);
      this.scanHeaderFill += take;
      offset += take;
      if (this.scanHeaderFill < 8) return;
      this.scanHeaderFill = 0;
      const first = this.scanHeader.readUInt32BE(0);
      const length = this.scanHeader.readUInt32BE(4) & 0xff_ffff;
      if ((first & 0x8000_0000) === 0) {
        this.pendingData.push({ streamId: first & 0x7fff_ffff, length, fin: (this.scanHeader[4] & 0x01) !== 0 });
      }
      this.scanSkip = length;
    }
  }

  private record(frame: { type: ReceivedFrame['type'] } & Record<string, unknown>): void {
    this.frames.push({ ...frame, seq: this.frames.length, atMs: performance.now() } as ReceivedFrame);
    for (const waiter of [...this.waiters]) waiter.check();
  }

  private waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        if (error === undefined) resolve();
        else reject(error);
      };
      const waiter: Waiter = {
        check: () => {
          if (!condition()) return false;
          finish();
          return true;
        },
        fail: (reason) => finish(reason),
      };
      const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received: ${this.describe()}`)), timeoutMs);
      this.waiters.add(waiter);
      if (this.isClosed) finish(new Error(`the connection is closed; no ${what}; received: ${this.describe()}`));
    });
  }

  private onSocketClose(): void {
    this.isClosed = true;
    for (const waiter of [...this.waiters]) {
      if (!waiter.check()) waiter.fail(new Error(`the connection closed while waiting; received: ${this.describe()}`));
    }
    for (const resolve of this.closeWaiters.splice(0)) resolve();
    this.inflater.close();
    this.deflater.close();
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The value of the first header named `name`. */
export function header(headers: FlatHeaders, name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}

/** n bytes of the test app's /bytes pattern (byte i = i % 251), from offset `start`. */
export function patternBytes(n: number, start = 0): Buffer {
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = (start + i) % 251;
  return out;
}

/**
 * Resolves once `condition` holds, polling every few milliseconds (for state outside the peer,
 * such as what an app recorded); rejects after `timeoutMs`.
 */
export async function eventually(condition: () => boolean, timeoutMs = DEFAULT_WAIT_MS, what: string | (() => string) = 'a condition'): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await sleep(5);
  }
}
