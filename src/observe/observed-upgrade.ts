// Upgraded connections in the access log and the stats. Every upgrade an app or the forwarding
// relay takes passes its UpgradeHandler (apps/app.ts): an HTTP/1.1 upgrade node:http parsed
// (serve) and an h2 extended CONNECT over its stream (serveTunnel). observeApp() wraps that
// handler, so a request that is not an upgrade costs nothing here.
//
// The app answers on the socket itself, with an HTTP/1.1 response head (the h2 tunnel turns a
// 101 into :status 200), so the record reads its status and head size off the first bytes
// written to the socket; then it lets the socket be. Its line is written when the connection
// (h2: the stream) closes: status as the client saw it (101 on HTTP/1.1, 200 on h2 and h2c, the
// answer as it is for a refusal), %(rsize) the bytes sent to the client after the head, %(cl)
// those the client sent after its own, %(msecs) the whole connection. Bytes are read off the
// socket's own counters (bytesWritten, bytesRead), which the h2 tunnel keeps as net.Socket does.

import type { Duplex } from 'node:stream';
import type { ByteCounts, UpgradeHandler } from '../apps/app.ts';
import type { RequestHead } from '../exchange/exchange.ts';
import { headerValue } from '../exchange/flat-headers.ts';
import type { AccessRecord } from './access-record.ts';
import type { Observer } from './observer.ts';

/** How much of the first write is searched for the end of the response head. */
const MAX_SNIFFED_BYTES = 64 << 10;

const kUpgradeRecord = Symbol('spry.upgradeRecord');
type Carrier = Duplex & { [kUpgradeRecord]?: UpgradeRecord };

export function observeUpgrades(inner: UpgradeHandler, observer: Observer): UpgradeHandler {
  return {
    accepts: () => inner.accepts(),
    serve(req, socket, early, head) {
      // The bytes of the new protocol already read (`early`) count as the client's.
      new UpgradeRecord(head, headerValue(head.headers, 'upgrade') ?? '', observer, socket, req.socket, early.length);
      inner.serve(req, socket, early, head);
    },
    serveTunnel(head, protocol, socket) {
      // The client sent CONNECT; apps see it as the GET it stands for.
      new UpgradeRecord({ ...head, method: 'CONNECT' }, protocol, observer, socket, socket, 0);
      inner.serveTunnel(head, protocol, socket);
    },
  };
}

/** The --http-to backend that took a forwarded upgrade, for its access line. */
export function upgradeBackend(socket: Duplex, label: string): void {
  const record = (socket as Carrier)[kUpgradeRecord];
  if (record !== undefined) record.backend = label;
}

class UpgradeRecord implements AccessRecord {
  readonly head: RequestHead;
  readonly startedAt = performance.now();
  status = 0;
  readonly responseHeaders = undefined;
  headerBytes = 0;
  bodyBytes = 0;
  requestBytes = 0;
  durationMs = 0;
  backend: string | undefined = undefined;
  cut = false;
  upgrade: string | undefined = undefined;
  private readonly asked: string;
  private readonly observer: Observer;
  private readonly counts: ByteCounts;
  private readonly writtenBefore: number;
  private readonly readBefore: number;

  constructor(head: RequestHead, asked: string, observer: Observer, socket: Duplex, counts: ByteCounts, early: number) {
    this.head = head;
    this.asked = asked;
    this.observer = observer;
    this.counts = counts;
    this.writtenBefore = counts.bytesWritten;
    this.readBefore = counts.bytesRead - early;
    (socket as Carrier)[kUpgradeRecord] = this;
    this.watchFirstWrite(socket);
    socket.once('close', () => this.closed());
  }

  /** Reads the answer off the first write() or end() with bytes, then puts the socket's own back. */
  private watchFirstWrite(socket: Duplex): void {
    const write = socket.write;
    const end = socket.end;
    const done = (chunk: unknown): void => {
      if (socket.write === sniffingWrite) socket.write = write;
      if (socket.end === sniffingEnd) socket.end = end;
      this.answered(chunk);
    };
    const sniffingWrite = function (this: Duplex, ...args: Parameters<Duplex['write']>): boolean {
      done(args[0]);
      return write.apply(this, args);
    } as Duplex['write'];
    const sniffingEnd = function (this: Duplex, ...args: unknown[]): Duplex {
      if (typeof args[0] === 'string' || ArrayBuffer.isView(args[0])) done(args[0]);
      return (end as (...a: unknown[]) => Duplex).apply(this, args);
    } as Duplex['end'];
    socket.write = sniffingWrite;
    socket.end = sniffingEnd;
  }

  private answered(chunk: unknown): void {
    const text = typeof chunk === 'string' ? chunk.slice(0, MAX_SNIFFED_BYTES) : ArrayBuffer.isView(chunk) ? Buffer.from(chunk.buffer, chunk.byteOffset, Math.min(chunk.byteLength, MAX_SNIFFED_BYTES)).toString('latin1') : '';
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
    if (status === null) return;
    const end = text.indexOf('\r\n\r\n');
    const head = end < 0 ? text : text.slice(0, end + 4);
    this.headerBytes = typeof chunk === 'string' ? Buffer.byteLength(head) : head.length;
    this.status = Number(status[1]);
    if (this.status !== 101) return;
    this.upgrade = this.asked;
    // What the client saw: RFC 8441 §5, a tunnel's 101 is :status 200.
    if (this.head.protocol.kind === 'h2') this.status = 200;
    this.observer.upgraded(this);
  }

  private closed(): void {
    this.durationMs = performance.now() - this.startedAt;
    this.cut = this.status === 0;
    this.bodyBytes = Math.max(0, this.counts.bytesWritten - this.writtenBefore - this.headerBytes);
    this.requestBytes = Math.max(0, this.counts.bytesRead - this.readBefore);
    this.observer.ended(this);
  }
}
