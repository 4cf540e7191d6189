// A ServerExchange that records what passes through it (status, body bytes each way, when it
// ended) and hands the record to the Observer when the response ends or is cut. It is the
// record: one object per request, methods on the prototype, no closures. Only installed when the
// access log, stats or metrics are on (observed-app.ts); otherwise apps get the front end's
// exchange untouched.

import type { BodySink, BufferSizes, FlatHeaders, PushSink, RequestHead, ServerExchange } from '../exchange/exchange.ts';
import type { PushedResource } from '../push/push-planner.ts';
import type { AccessRecord } from './access-record.ts';
import type { Observer } from './observer.ts';

export class ObservedExchange implements ServerExchange, AccessRecord {
  readonly head: RequestHead;
  readonly startedAt: number;
  status = 0;
  responseHeaders: FlatHeaders | undefined = undefined;
  headerBytes = -1;
  bodyBytes = 0;
  requestBytes = 0;
  durationMs = 0;
  backend: string | undefined = undefined;
  cut = false;
  readonly push: ((resource: PushedResource) => PushSink | undefined) | undefined;
  /** The front end's interim 100 (h2), passed through when it has one. */
  readonly sendContinue: (() => void) | undefined;
  /** The front end's head-and-whole-body response (h2), passed through when it has one. */
  readonly respondWithBody: ((status: number, headers: FlatHeaders, body: Buffer) => void) | undefined;
  private readonly inner: ServerExchange;
  private readonly observer: Observer;
  private appOnAbort: ((reason: Error) => void) | null = null;
  private done = false;

  constructor(inner: ServerExchange, observer: Observer) {
    this.inner = inner;
    this.head = inner.head;
    this.observer = observer;
    // Methods of the prototype, the same function for every ObservedExchange: no closure per request.
    this.push = inner.push === undefined ? undefined : this.pushThrough;
    this.sendContinue = inner.sendContinue === undefined ? undefined : this.continueThrough;
    this.respondWithBody = inner.respondWithBody === undefined ? undefined : this.wholeThrough;
    this.startedAt = performance.now();
    // A closure, not a property on `inner` pointing back here: adding one would give every
    // front end's exchange (SpdyStream, Http2Exchange) a second hidden class, and the front
    // ends' per-frame code on them polymorphic property reads.
    inner.onAbort = abortForwarder(this);
    observer.started(this);
  }

  get buffers(): BufferSizes {
    return this.inner.buffers;
  }

  get aborted(): boolean {
    return this.inner.aborted;
  }

  get responded(): boolean {
    return this.inner.responded;
  }

  get onDrain(): (() => void) | null {
    return this.inner.onDrain;
  }

  set onDrain(handler: (() => void) | null) {
    this.inner.onDrain = handler;
  }

  get onAbort(): ((reason: Error) => void) | null {
    return this.appOnAbort;
  }

  set onAbort(handler: ((reason: Error) => void) | null) {
    this.appOnAbort = handler;
  }

  setBodySink(sink: BodySink): void {
    this.inner.setBodySink(new CountingSink(this, sink));
  }

  end(chunk?: Buffer, callback?: () => void): void {
    if (chunk !== undefined) this.bodyBytes += chunk.length;
    this.inner.end(chunk, callback);
    this.finish(false);
  }

  resumeBody(): void {
    this.inner.resumeBody();
  }

  respond(status: number, headers: FlatHeaders, endStream: boolean): void {
    this.status = status;
    this.responseHeaders = headers;
    this.inner.respond(status, headers, endStream);
    if (endStream) this.finish(false);
  }

  write(chunk: Buffer, callback?: () => void): boolean {
    this.bodyBytes += chunk.length;
    return this.inner.write(chunk, callback);
  }

  wholeThrough(status: number, headers: FlatHeaders, body: Buffer): void {
    this.status = status;
    this.responseHeaders = headers;
    this.bodyBytes += body.length;
    this.inner.respondWithBody!(status, headers, body);
    this.finish(false);
  }

  continueThrough(): void {
    this.inner.sendContinue!();
  }

  /** An app's push (res.push()): counted as sent or refused. */
  pushThrough(resource: PushedResource): PushSink | undefined {
    const sink = this.inner.push!(resource);
    this.observer.pushed(sink !== undefined);
    return sink;
  }

  abort(): void {
    this.inner.abort();
    this.finish(true);
  }

  /** The record is whole: once, at the response's end or when it is cut. */
  finish(cut: boolean): void {
    if (this.done) return;
    this.done = true;
    this.cut = cut;
    this.durationMs = performance.now() - this.startedAt;
    this.observer.finished(this);
    // The record is used up: the app's response headers need not live as long as the front end
    // holds this exchange.
    this.responseHeaders = undefined;
  }
}

/** Counts the request body on its way to the app's sink. */
class CountingSink implements BodySink {
  private readonly record: ObservedExchange;
  private readonly sink: BodySink;

  constructor(record: ObservedExchange, sink: BodySink) {
    this.record = record;
    this.sink = sink;
  }

  data(chunk: Buffer): boolean {
    this.record.requestBytes += chunk.length;
    return this.sink.data(chunk);
  }

  end(): void {
    this.sink.end();
  }
}

function abortForwarder(observed: ObservedExchange): (reason: Error) => void {
  return (reason) => {
    observed.finish(true);
    observed.onAbort?.(reason);
  };
}
