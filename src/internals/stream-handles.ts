// Node's own socket handles (the `tcp_wrap`, `pipe_wrap` and `stream_wrap` bindings under
// node:net), borrowed for one job: a uwsgi backend connection, which lives for one request
// (the protocol has no keep-alive). net.Socket wraps each handle in a Duplex stream, timers and
// event plumbing that cost ~25 µs of JavaScript per connection; the handle alone connects,
// writes, reads and closes for a third of that (bench scenario 6 measures both). Looked up once
// here, checked at load (require-internals.ts), and used only through HandleConnection.
//
// How the handles behave (Node's lib/net.js and lib/internal/stream_base_commons.js use them
// the same way):
//   - connect(req, address, port) / connect6(…) / Pipe's connect(req, path) return a negative
//     libuv error at once or 0; req.oncomplete(status) follows.
//   - onread(arrayBuffer) is called on the handle with the byte count, or a negative error
//     (UV_EOF at the end), in streamBaseState[kReadBytesOrError]; the bytes start at
//     streamBaseState[kArrayBufferOffset].
//   - writeBuffer(req, buffer) returns a negative error or 0; streamBaseState[kLastWriteWasAsync]
//     says whether the bytes were queued, in which case req.oncomplete(status) follows once they
//     are written (the buffer must stay referenced).
//   - close(callback) ends it; no callback comes after.

import { isIP } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { requireInternals } from './require-internals.ts';

interface RequestWrap {
  oncomplete: (status: number) => void;
  [key: string]: unknown;
}

interface StreamHandle {
  onread: ((this: StreamHandle, arrayBuffer: ArrayBuffer | undefined) => void) | null;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: RequestWrap, buffer: Buffer): number;
  close(callback?: () => void): void;
  ref(): void;
  unref(): void;
  setNoDelay?(enable: boolean): number;
  connect(req: RequestWrap, address: string, port?: number): number;
  connect6?(req: RequestWrap, address: string, port: number): number;
}

interface Owned {
  owner: HandleConnection;
}

type HandleClass = new (type: number) => StreamHandle;
type WrapClass = new () => RequestWrap;

interface Bindings {
  readonly TCP: HandleClass;
  readonly TCPConnectWrap: WrapClass;
  readonly tcpSocket: number;
  readonly Pipe: HandleClass;
  readonly PipeConnectWrap: WrapClass;
  readonly pipeSocket: number;
  readonly WriteWrap: WrapClass;
  readonly state: Int32Array;
  readonly kReadBytesOrError: number;
  readonly kArrayBufferOffset: number;
  readonly kLastWriteWasAsync: number;
}

const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;

function lookUp(): Partial<Bindings> {
  try {
    const tcp = binding('tcp_wrap');
    const pipe = binding('pipe_wrap');
    const stream = binding('stream_wrap');
    return {
      TCP: tcp.TCP as HandleClass,
      TCPConnectWrap: tcp.TCPConnectWrap as WrapClass,
      tcpSocket: (tcp.constants as Record<string, number> | undefined)?.SOCKET,
      Pipe: pipe.Pipe as HandleClass,
      PipeConnectWrap: pipe.PipeConnectWrap as WrapClass,
      pipeSocket: (pipe.constants as Record<string, number> | undefined)?.SOCKET,
      WriteWrap: stream.WriteWrap as WrapClass,
      state: stream.streamBaseState as Int32Array,
      kReadBytesOrError: stream.kReadBytesOrError as number,
      kArrayBufferOffset: stream.kArrayBufferOffset as number,
      kLastWriteWasAsync: stream.kLastWriteWasAsync as number,
    };
  } catch {
    return {};
  }
}

const found = lookUp();
const isClass = (value: unknown): boolean => typeof value === 'function';
const isIndex = (value: unknown): boolean => typeof value === 'number' && Number.isInteger(value) && value >= 0;

/** The checks of the fence (test/internals/fence.test.ts runs them on every Node CI has). */
export function streamHandleChecks(parts: Partial<Bindings>): Record<string, () => boolean> {
  return {
    "process.binding('tcp_wrap').TCP, TCPConnectWrap and constants.SOCKET": () => isClass(parts.TCP) && isClass(parts.TCPConnectWrap) && isIndex(parts.tcpSocket),
    "process.binding('pipe_wrap').Pipe, PipeConnectWrap and constants.SOCKET": () => isClass(parts.Pipe) && isClass(parts.PipeConnectWrap) && isIndex(parts.pipeSocket),
    "process.binding('stream_wrap').WriteWrap": () => isClass(parts.WriteWrap),
    "process.binding('stream_wrap').streamBaseState and its kReadBytesOrError, kArrayBufferOffset, kLastWriteWasAsync": () =>
      parts.state instanceof Int32Array && isIndex(parts.kReadBytesOrError) && isIndex(parts.kArrayBufferOffset) && isIndex(parts.kLastWriteWasAsync),
    'TCP handles read, write, connect and close as lib/net.js uses them': () =>
      ['readStart', 'readStop', 'writeBuffer', 'close', 'ref', 'unref', 'connect', 'connect6', 'setNoDelay'].every((name) => isClass((parts.TCP?.prototype as Record<string, unknown> | undefined)?.[name])),
  };
}

requireInternals(() => `Node.js ${process.version}`, streamHandleChecks(found));

const B = found as Bindings;
const UV_EOF = -4095;
/** Queued (not yet written) bytes above which write() answers false, as a socket's high-water mark. */
const WRITE_HIGH_WATER_BYTES = 64 * 1024;

/** What a HandleConnection reports; each method is called on the object given (no closures needed). */
export interface ConnectionEvents {
  connected(): void;
  received(chunk: Buffer): void;
  /** The peer finished sending. */
  ended(): void;
  /** Connecting, reading or writing failed; the connection is closed already. */
  failed(error: NodeJS.ErrnoException): void;
  /** Everything queued was written, after a write() that returned false. */
  drained(): void;
}

export type HandleTarget = { readonly host: string; readonly port: number } | { readonly path: string };

/** True when `target` can be reached without a name lookup (an IP address or a unix socket). */
export function handleReaches(target: HandleTarget): boolean {
  return 'path' in target || isIP(target.host) !== 0;
}

function systemError(status: number, syscall: string): NodeJS.ErrnoException {
  const code = getSystemErrorName(status);
  const error = new Error(`${syscall} ${code}`) as NodeJS.ErrnoException;
  error.code = code;
  error.errno = status;
  error.syscall = syscall;
  return error;
}

/**
 * One client connection on a bare handle: connect, write buffers, read chunks, close. No
 * stream, no timers; the caller bounds time itself. Events go to `events` until destroy().
 */
export class HandleConnection {
  private readonly handle: StreamHandle;
  private readonly events: ConnectionEvents;
  private closed = false;
  private queuedBytes = 0;
  private wantDrain = false;

  constructor(target: HandleTarget, events: ConnectionEvents, noDelay: boolean) {
    this.events = events;
    const connectReq = new ('path' in target ? B.PipeConnectWrap : B.TCPConnectWrap)();
    if ('path' in target) {
      this.handle = new B.Pipe(B.pipeSocket);
    } else {
      this.handle = new B.TCP(B.tcpSocket);
      if (noDelay) this.handle.setNoDelay!(true);
    }
    this.handle.onread = HandleConnection.onRead;
    (this.handle as unknown as Owned).owner = this;
    connectReq.owner = this;
    connectReq.oncomplete = HandleConnection.onConnect;
    let status: number;
    if ('path' in target) status = this.handle.connect(connectReq, target.path);
    else if (isIP(target.host) === 6) status = this.handle.connect6!(connectReq, target.host, target.port);
    else status = this.handle.connect(connectReq, target.host, target.port);
    if (status < 0) queueMicrotask(() => this.fail(status, 'connect'));
  }

  get destroyed(): boolean {
    return this.closed;
  }

  /** Queues `chunk`; false when more than the high-water mark waits (drained() follows). */
  write(chunk: Buffer): boolean {
    if (this.closed) return false;
    const req = this.writeRequest();
    return this.afterWrite(req, this.handle.writeBuffer(req, chunk), chunk);
  }

  pause(): void {
    if (!this.closed) this.handle.readStop();
  }

  resume(): void {
    if (!this.closed) this.handle.readStart();
  }

  /** Whether the connection keeps the process alive (it does from the start, as a socket does). */
  ref(): void {
    if (!this.closed) this.handle.ref();
  }

  unref(): void {
    if (!this.closed) this.handle.unref();
  }

  /** Closes the connection; no event follows. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.handle.close();
  }

  // Node calls these with the request wrap (or the handle) as `this`: shared by every connection.
  private static onConnect(this: RequestWrap, status: number): void {
    const connection = this.owner as HandleConnection;
    if (connection.closed) return;
    if (status < 0) return connection.fail(status, 'connect');
    const reading = connection.handle.readStart();
    if (reading < 0) return connection.fail(reading, 'read');
    connection.events.connected();
  }

  private static onWritten(this: RequestWrap, status: number): void {
    const connection = this.owner as HandleConnection;
    connection.queuedBytes -= this.bytes as number;
    if (connection.closed) return;
    if (status < 0) return connection.fail(status, 'write');
    if (connection.wantDrain && connection.queuedBytes === 0) {
      connection.wantDrain = false;
      connection.events.drained();
    }
  }

  private static onRead(this: StreamHandle, arrayBuffer: ArrayBuffer | undefined): void {
    const connection = (this as unknown as Owned).owner;
    const count = B.state[B.kReadBytesOrError];
    if (connection.closed) return;
    if (count > 0) return connection.events.received(Buffer.from(arrayBuffer!, B.state[B.kArrayBufferOffset], count));
    if (count === 0) return;
    if (count === UV_EOF) {
      this.readStop();
      return connection.events.ended();
    }
    connection.fail(count, 'read');
  }

  private writeRequest(): RequestWrap {
    const req = new B.WriteWrap();
    req.handle = this.handle;
    req.owner = this;
    req.oncomplete = HandleConnection.onWritten;
    return req;
  }

  /** What a write's `status` means: a failure, bytes already written, or bytes queued (`keep` referenced until written). */
  private afterWrite(req: RequestWrap, status: number, keep: Buffer): boolean {
    if (status < 0) {
      queueMicrotask(() => this.fail(status, 'write'));
      return false;
    }
    if (B.state[B.kLastWriteWasAsync] === 0) return this.queuedBytes < WRITE_HIGH_WATER_BYTES;
    req.buffer = keep; // referenced until written
    req.bytes = keep.length;
    this.queuedBytes += keep.length;
    if (this.queuedBytes < WRITE_HIGH_WATER_BYTES) return true;
    this.wantDrain = true;
    return false;
  }

  private fail(status: number, syscall: string): void {
    if (this.closed) return;
    this.destroy();
    this.events.failed(systemError(status, syscall));
  }
}
