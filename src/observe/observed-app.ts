// The one place every request passes on every front end: App.serve (SPDY, h2, h2c, uwsgi,
// HTTP/1.1 for fetch-style apps, forwarded requests), App.serveNode (HTTP/1.1 with node:http's
// own objects) and App.upgrade (upgrades, in-process and forwarded). observeApp() wraps the app
// once, at startup; with the access log, stats and metrics all off it is not called and
// requests cost nothing extra.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { App } from '../apps/app.ts';
import type { RequestHead } from '../exchange/exchange.ts';
import { kRawAnswer, type RawAnswerCarrier } from '../exchange/raw-answer.ts';
import type { AccessRecord } from './access-record.ts';
import { ObservedExchange } from './observed-exchange.ts';
import { observeUpgrades } from './observed-upgrade.ts';
import type { Observer } from './observer.ts';

export function observeApp(app: App, observer: Observer): App {
  const serveNode = app.serveNode;
  return {
    style: app.style,
    // Upgrades enter here too, once each (observed-upgrade.ts): one line per connection, at its close.
    ...(app.upgrade === undefined ? {} : { upgrade: observeUpgrades(app.upgrade, observer) }),
    serve(exchange) {
      app.serve(new ObservedExchange(exchange, observer));
    },
    ...(serveNode === undefined
      ? {}
      : {
          serveNode(req: IncomingMessage, res: ServerResponse, head: RequestHead) {
            const record = new NodeRecord(head, observer, req.socket);
            (res as RecordCarrier)[kRecord] = record;
            observer.started(record);
            res.on('finish', onNodeFinish);
            res.on('close', onNodeClose);
            serveNode(req, res, head);
          },
        }),
  };
}

const kRecord = Symbol('spry.accessRecord');
type RecordCarrier = RawAnswerCarrier & { [kRecord]?: NodeRecord; _header?: string | null };

/** The record of a request node:http serves itself: read off the response when it ends. */
class NodeRecord implements AccessRecord {
  readonly head: RequestHead;
  readonly startedAt = performance.now();
  status = 0;
  responseHeaders = undefined;
  headerBytes = -1;
  bodyBytes = 0;
  requestBytes = -1;
  durationMs = 0;
  backend = undefined;
  cut = false;
  done = false;
  readonly observer: Observer;
  private readonly socket: Socket;
  /** The connection's bytes written before this response (keep-alive: earlier responses). */
  private readonly writtenBefore: number;

  constructor(head: RequestHead, observer: Observer, socket: Socket) {
    this.head = head;
    this.observer = observer;
    this.socket = socket;
    this.writtenBefore = socket.bytesWritten;
  }

  finish(res: RecordCarrier, cut: boolean): void {
    if (this.done) return;
    this.done = true;
    this.durationMs = performance.now() - this.startedAt;
    const raw = res[kRawAnswer];
    if (raw !== undefined) {
      // The edge answered on the socket itself (a 504 or 413): that is the response, whole.
      this.status = raw.status;
      this.headerBytes = raw.headBytes;
      this.bodyBytes = raw.bodyBytes;
      this.observer.finished(this);
      return;
    }
    this.cut = cut;
    this.status = res.headersSent ? res.statusCode : 0;
    // The serialised head node:http wrote: exactly %(hsize).
    this.headerBytes = typeof res._header === 'string' ? Buffer.byteLength(res._header, 'latin1') : 0;
    // node:http counts no body bytes of its own: what went to the connection after the head
    // (chunked framing included, when the response is chunked).
    this.bodyBytes = Math.max(0, this.socket.bytesWritten - this.writtenBefore - this.headerBytes);
    this.observer.finished(this);
  }
}

// Shared handlers (no closures per request).
function onNodeFinish(this: RecordCarrier): void {
  this[kRecord]?.finish(this, false);
}

function onNodeClose(this: RecordCarrier): void {
  this[kRecord]?.finish(this, !this.writableFinished);
}
