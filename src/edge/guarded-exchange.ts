// An exchange with the edge's bounds around the app's: the request body counted against
// --limit-post, the response timed against --harakiri, the HSTS header added. Once a bound cuts
// the request short, the app's later calls fall on nothing, and it hears of the cut as an abort.

import type { BodySink, BufferSizes, FlatHeaders, RequestHead, ServerExchange } from '../exchange/exchange.ts';
import { logLine } from '../log.ts';
import type { PushedResource } from '../push/push-planner.ts';
import { EDGE_FAILURES, type EdgeFailure } from './edge-options.ts';

export interface ExchangeBounds {
  /** 0: no limit. */
  readonly limitPostBytes: number;
  /** 0: none. */
  readonly harakiriMs: number;
  /** A header pair added to every response (`strict-transport-security`), or undefined. */
  readonly extraHeader: readonly [string, string] | undefined;
}

export class GuardedExchange implements ServerExchange {
  onDrain: (() => void) | null = null;
  onAbort: ((reason: Error) => void) | null = null;
  readonly push?: (resource: PushedResource) => ReturnType<NonNullable<ServerExchange['push']>>;
  readonly sendContinue?: () => void;
  readonly respondWithBody?: NonNullable<ServerExchange['respondWithBody']>;
  private readonly inner: ServerExchange;
  private readonly bounds: ExchangeBounds;
  private failure: EdgeFailure | undefined;
  private timer: NodeJS.Timeout | undefined;
  private received = 0;

  constructor(inner: ServerExchange, bounds: ExchangeBounds) {
    this.inner = inner;
    this.bounds = bounds;
    inner.onDrain = () => this.onDrain?.();
    inner.onAbort = (reason) => {
      this.stopTimer();
      this.onAbort?.(reason);
    };
    if (inner.push !== undefined) this.push = (resource) => inner.push!(resource);
    if (inner.sendContinue !== undefined) this.sendContinue = () => inner.sendContinue!();
    if (inner.respondWithBody !== undefined) this.respondWithBody = (status, headers, body) => this.wholeThrough(status, headers, body);
    if (bounds.harakiriMs > 0) this.timer = setTimeout(onHarakiri, bounds.harakiriMs, this);
  }

  get head(): RequestHead {
    return this.inner.head;
  }

  get buffers(): BufferSizes {
    return this.inner.buffers;
  }

  get aborted(): boolean {
    return this.failure !== undefined || this.inner.aborted;
  }

  get responded(): boolean {
    return this.inner.responded;
  }

  setBodySink(sink: BodySink): void {
    if (this.bounds.limitPostBytes === 0) return this.inner.setBodySink(sink);
    const limit = this.bounds.limitPostBytes;
    this.inner.setBodySink({
      data: (chunk) => {
        if (this.failure !== undefined) return true;
        this.received += chunk.length;
        if (this.received <= limit) return sink.data(chunk);
        this.fail('body-too-large');
        return true;
      },
      end: () => {
        if (this.failure === undefined) sink.end();
      },
    });
  }

  resumeBody(): void {
    if (this.failure === undefined) this.inner.resumeBody();
  }

  respond(status: number, headers: FlatHeaders, endStream: boolean): void {
    if (this.failure !== undefined) return;
    if (endStream) this.stopTimer();
    this.inner.respond(status, this.withExtra(headers), endStream);
  }

  /** respond() and end() at once: the whole response is handed over, so --harakiri's clock stops. */
  private wholeThrough(status: number, headers: FlatHeaders, body: Buffer): void {
    this.stopTimer();
    if (this.failure === undefined) this.inner.respondWithBody!(status, this.withExtra(headers), body);
  }

  /** The response's headers and HSTS's, if asked. */
  private withExtra(headers: FlatHeaders): FlatHeaders {
    const extra = this.bounds.extraHeader;
    return extra === undefined ? headers : [...headers, extra[0], extra[1]];
  }

  write(chunk: Buffer, callback?: () => void): boolean {
    if (this.failure === undefined) return this.inner.write(chunk, callback);
    callback?.();
    return true;
  }

  end(chunk?: Buffer, callback?: () => void): void {
    this.stopTimer();
    if (this.failure === undefined) return this.inner.end(chunk, callback);
    callback?.();
  }

  abort(): void {
    this.stopTimer();
    if (this.failure === undefined) this.inner.abort();
  }

  /**
   * Cuts the request short: the failure's status while nothing was sent (on HTTP/1.1 with
   * Connection: close, since the rest of an over-long body is never read), else a reset. An
   * upload cut on SPDY or h2 is a reset (RST_STREAM) either way.
   */
  fail(kind: EdgeFailure): void {
    if (this.failure !== undefined || this.inner.aborted) return;
    this.failure = kind;
    this.stopTimer();
    const inner = this.inner;
    const { status, code, body } = EDGE_FAILURES[kind];
    const multiplexed = inner.head.protocol.kind === 'spdy' || inner.head.protocol.kind === 'h2';
    if (kind === 'harakiri') logLine(`${code}: ${inner.head.method} ${inner.head.target} not answered within ${this.bounds.harakiriMs / 1000} s`);
    if (inner.responded || (kind === 'body-too-large' && multiplexed)) {
      inner.abort();
    } else {
      const bytes = Buffer.from(body);
      inner.respond(status, ['content-type', 'text/plain; charset=utf-8', 'content-length', String(bytes.length), ...(multiplexed ? [] : ['connection', 'close'])], false);
      inner.end(bytes);
    }
    this.onAbort?.(Object.assign(new Error(EDGE_FAILURES[kind].body.trim()), { code }));
  }

  private stopTimer(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function onHarakiri(exchange: GuardedExchange): void {
  exchange.fail('harakiri');
}
