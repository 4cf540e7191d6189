// What one try of a request at a backend does whatever the protocol (uwsgi-attempt.ts,
// http-attempt.ts): the HTTP/1.x response parsed back into the exchange, its time bounded, and
// each failure classified for the owner (forwarding-app.ts), which decides what it means
// (retry, 502, 504). The attempt is its connection's and its parser's event sink itself, so a
// request costs no closure per event; a subclass writes the request and its body (sendRequest,
// writeBody) and says what becomes of the connection when the attempt ends.
//
// Timing: the whole head must arrive within the timeout (an idle timeout alone never fires on a
// backend that trickles its head a byte at a time); an idle timer follows only for a body that
// does not arrive with the head, which most never need.

import { SpryError } from '../errors.ts';
import type { BodySink, FlatHeaders, ServerExchange } from '../exchange/exchange.ts';
import type { ConnectionEvents } from '../internals/stream-handles.ts';
import { HOP_BY_HOP } from './backend-requests.ts';
import type { BackendNode } from './balancer.ts';
import { HttpResponseParser, type ResponseSink } from './http-response-parser.ts';

/** What an attempt reports to the request it serves. */
export interface AttemptOwner {
  readonly exchange: ServerExchange;
  readonly headSent: boolean;
  readonly timeoutMs: number;
  markAlive(node: BackendNode): void;
  respond(status: number, headers: FlatHeaders): void;
  finish(): void;
  /** The connection failed before any byte of the response; `connected` says whether it was made. */
  lost(node: BackendNode, error: NodeJS.ErrnoException, connected: boolean): void;
  backendFailed(node: BackendNode, error: Error, status: 502 | 504): void;
}

/** The part of a connection the shared code drives. */
interface Reader {
  pause(): void;
  resume(): void;
}

export abstract class BackendAttempt<Owner extends AttemptOwner = AttemptOwner> implements ConnectionEvents, ResponseSink {
  protected readonly owner: Owner;
  protected readonly node: BackendNode;
  protected readonly parser: HttpResponseParser;
  protected abstract readonly connection: Reader;
  private readonly release: () => void;
  private readonly headDeadline: NodeJS.Timeout;
  private idleTimer: NodeJS.Timeout | undefined;
  protected lastActivity = 0;
  protected madeConnection = false;
  /** A byte of the response arrived: a failure now is no longer retried elsewhere. */
  private answered = false;
  /** The attempt is over (answered, failed, or handed to a retry): late events change nothing. */
  protected over = false;

  constructor(owner: Owner, node: BackendNode, release: () => void) {
    this.owner = owner;
    this.node = node;
    this.release = release;
    const exchange = owner.exchange;
    this.parser = new HttpResponseParser(this, exchange.head.method === 'HEAD');
    this.headDeadline = setTimeout(() => this.timedOut(), owner.timeoutMs);
    exchange.onDrain = () => {
      if (!this.over) this.connection.resume();
    };
    exchange.onAbort = () => this.close(false);
  }

  // ── the connection's events ──────────────────────────────────────────────

  /** The connection is made (or a kept one taken): the request goes out, then its body as it comes. */
  connected(): void {
    this.madeConnection = true;
    this.owner.markAlive(this.node);
    if (!this.sendRequest()) return;
    const exchange = this.owner.exchange;
    exchange.sendContinue?.(); // the body goes at once: Expect: 100-continue is answered now
    exchange.setBodySink(new RequestBody(this));
  }

  abstract drained(): void;

  received(chunk: Buffer): void {
    if (this.over) return;
    this.answered = true;
    this.lastActivity = Date.now();
    try {
      this.parser.push(chunk);
    } catch (error) {
      return this.fail(error as Error);
    }
    if (this.over) return;
    if (this.parser.done) return this.close(this.reusable());
    if (this.idleTimer === undefined && this.owner.headSent) {
      this.idleTimer = setTimeout(() => this.idleCheck(), this.owner.timeoutMs);
    }
  }

  ended(): void {
    if (this.over) return;
    if (!this.answered) return this.lost(new SpryError('SPRY_ERR_BACKEND_CLOSED', 'the backend closed the connection without answering'));
    try {
      this.parser.close();
    } catch (error) {
      return this.fail(error as Error);
    }
    this.close(false);
  }

  failed(error: NodeJS.ErrnoException): void {
    if (this.over) return;
    if (!this.answered) return this.lost(error);
    this.fail(error);
  }

  // ── the request body's events (RequestBody) ──────────────────────────────

  bodyData(chunk: Buffer): boolean {
    this.lastActivity = Date.now();
    return this.writeBody(chunk);
  }

  bodyEnd(): void {
    this.endBody();
  }

  // ── the parser's events ──────────────────────────────────────────────────

  /** The head goes on without this hop's headers, over HTTP or uwsgi alike (a Trailer or an Upgrade made node:http throw mid-response). */
  head(status: number, headers: FlatHeaders): void {
    clearTimeout(this.headDeadline);
    const forwarded: FlatHeaders = [];
    for (let i = 0; i < headers.length; i += 2) {
      if (!HOP_BY_HOP.has(headers[i])) forwarded.push(headers[i], headers[i + 1]);
    }
    this.owner.respond(status, forwarded);
  }

  body(chunk: Buffer): void {
    if (!this.owner.exchange.write(chunk)) this.connection.pause();
  }

  /** The response is whole; the connection's fate is settled once the parser returns (received()). */
  end(): void {
    this.owner.finish();
  }

  // ── the request, as the protocol writes it ───────────────────────────────

  /** Writes the request (a uwsgi packet, an HTTP head); true when its body follows from the exchange. */
  protected abstract sendRequest(): boolean;

  /** Writes a chunk of the request body; false when the connection is full. */
  protected abstract writeBody(chunk: Buffer): boolean;

  /** The request body has all come. */
  protected endBody(): void {}

  // ── endings ──────────────────────────────────────────────────────────────

  /** True when the connection may serve another request after this response. */
  protected abstract reusable(): boolean;

  /** Closes the connection, or keeps it (`reuse`); called once. */
  protected abstract closeConnection(reuse: boolean): void;

  /** Ends the attempt: timers off, the connection closed or kept, the node's count released. Idempotent. */
  protected close(reuse: boolean): void {
    if (this.over) return;
    this.over = true;
    clearTimeout(this.headDeadline);
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.closeConnection(reuse && !this.owner.exchange.aborted);
    this.release();
  }

  /** The attempt failed for a reason the owner answers with `status` (or a cut, once the response started). */
  protected fail(error: Error, status: 502 | 504 = 502): void {
    this.owner.backendFailed(this.node, error, status);
    this.close(false);
  }

  /** The connection failed before any byte of the response. */
  protected lost(error: NodeJS.ErrnoException): void {
    this.close(false);
    this.owner.lost(this.node, error, this.madeConnection);
  }

  private timedOut(): void {
    if (!this.over) this.fail(new SpryError('SPRY_ERR_BACKEND_TIMEOUT', `no response within ${this.owner.timeoutMs / 1000} s`), 504);
  }

  /** The idle timer: re-armed for what is left while bytes keep coming. */
  private idleCheck(): void {
    const idle = Date.now() - this.lastActivity;
    if (idle >= this.owner.timeoutMs) return this.timedOut();
    if (!this.over) this.idleTimer = setTimeout(() => this.idleCheck(), this.owner.timeoutMs - idle);
  }
}

/** The exchange's request body, on its way to the attempt: one object per request, no closures. */
class RequestBody implements BodySink {
  private readonly attempt: BackendAttempt;

  constructor(attempt: BackendAttempt) {
    this.attempt = attempt;
  }

  data(chunk: Buffer): boolean {
    return this.attempt.bodyData(chunk);
  }

  end(): void {
    this.attempt.bodyEnd();
  }
}
