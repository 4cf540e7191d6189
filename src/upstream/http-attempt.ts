// One try of a request at an HTTP/1.1 backend, on a kept-alive connection of its pool
// (http-backend-pool.ts) or a new one: the head written (httpBackendHead), the body as it came
// (Content-Length) or chunked when it has no length, the response parsed back into the exchange
// (HttpResponseParser: Content-Length, chunked or close-delimited bodies, none after HEAD, 204,
// 304), and the connection given back when the response left it clean: persistent (HTTP/1.1
// without Connection: close, HTTP/1.0 only with keep-alive), nothing after the response, the
// request's body all sent. node:http's client did this for ~20 µs more per request (bench
// scenario 6). Upgrades stay on node:http (forwarded-upgrade.ts).
//
// A reused connection that fails before any response byte was most likely closed by the backend
// between requests: the request goes once more on a fresh connection if the retry rule lets it
// (owner.retryFresh), and the node is not blamed. Timing as uwsgi-attempt.ts: the whole head
// within the timeout, then an idle timer for a body that does not arrive with it.

import { SpryError } from '../errors.ts';
import type { FlatHeaders } from '../exchange/exchange.ts';
import { headerValue } from '../exchange/flat-headers.ts';
import type { ConnectionEvents } from '../internals/stream-handles.ts';
import { HOP_BY_HOP, httpBackendHead } from './backend-requests.ts';
import type { BackendNode } from './balancer.ts';
import type { HttpBackendPool, PooledConnection } from './http-backend-pool.ts';
import { HttpResponseParser, type ResponseSink } from './http-response-parser.ts';
import type { AttemptOwner } from './uwsgi-attempt.ts';

export interface HttpAttemptOwner extends AttemptOwner {
  /** A reused connection failed before any byte of the response: try once more on a new one. */
  retryFresh(node: BackendNode, error: NodeJS.ErrnoException): void;
}

const CHUNKED = 'transfer-encoding: chunked\r\n';
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');

export class HttpAttempt implements ConnectionEvents, ResponseSink {
  private readonly owner: HttpAttemptOwner;
  private readonly node: BackendNode;
  private readonly release: () => void;
  private readonly parser: HttpResponseParser;
  private readonly connection: PooledConnection;
  private readonly headDeadline: NodeJS.Timeout;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastActivity = 0;
  private madeConnection = false;
  /** The whole request (head and body) was handed to the connection. */
  private requestSent = false;
  private answered = false;
  private over = false;

  constructor(owner: HttpAttemptOwner, node: BackendNode, pool: HttpBackendPool, release: () => void, fresh: boolean) {
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
    this.connection = pool.take(this, fresh);
    if (this.connection.reused) this.connected();
  }

  // ── the connection's events ──────────────────────────────────────────────

  connected(): void {
    this.madeConnection = true;
    this.owner.markAlive(this.node);
    const exchange = this.owner.exchange;
    const head = exchange.head;
    const chunked = head.hasBody && headerValue(head.headers, 'content-length') === undefined;
    this.connection.write(Buffer.from(httpBackendHead(head, chunked ? CHUNKED : ''), 'latin1'));
    if (!head.hasBody) {
      this.requestSent = true;
      return;
    }
    exchange.sendContinue?.(); // the body goes at once: Expect: 100-continue is answered now
    exchange.setBodySink({
      data: (chunk) => {
        this.lastActivity = Date.now();
        if (!chunked) return this.connection.write(chunk);
        if (chunk.length === 0) return true; // an empty chunk would end the body
        return this.connection.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'), chunk, CRLF]));
      },
      end: () => {
        if (chunked) this.connection.write(LAST_CHUNK);
        this.requestSent = true;
      },
    });
  }

  received(chunk: Buffer): void {
    if (this.over) return;
    this.answered = true;
    this.lastActivity = Date.now();
    try {
      this.parser.push(chunk);
    } catch (error) {
      this.owner.backendFailed(this.node, error as Error, 502);
      return this.close(false);
    }
    if (this.parser.done) return this.close(this.parser.persistent && this.parser.excessBytes === 0 && this.requestSent);
    if (this.idleTimer === undefined && !this.over && this.owner.headSent) {
      this.idleTimer = setTimeout(() => this.idleCheck(), this.owner.timeoutMs);
    }
  }

  ended(): void {
    if (this.over) return;
    if (!this.answered) return this.lost(new SpryError('SPRY_ERR_BACKEND_CLOSED', 'the backend closed the connection without answering'));
    try {
      this.parser.close();
    } catch (error) {
      this.owner.backendFailed(this.node, error as Error, 502);
    }
    this.close(false);
  }

  failed(error: NodeJS.ErrnoException): void {
    if (this.over) return;
    if (!this.answered) return this.lost(error);
    this.owner.backendFailed(this.node, error, 502);
    this.close(false);
  }

  drained(): void {
    this.owner.exchange.resumeBody();
  }

  // ── the parser's events ──────────────────────────────────────────────────

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

  /** The response is whole; the connection goes back (or not) once the parser returns (received()). */
  end(): void {
    this.owner.finish();
  }

  // ── endings ──────────────────────────────────────────────────────────────

  /** Ends the attempt: timers off, the connection kept (`reuse`) or closed, the node's count released. */
  private close(reuse: boolean): void {
    if (this.over) return;
    this.over = true;
    clearTimeout(this.headDeadline);
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.connection.release(reuse && !this.owner.exchange.aborted);
    this.release();
  }

  private lost(error: NodeJS.ErrnoException): void {
    this.close(false);
    if (this.connection.reused) this.owner.retryFresh(this.node, error);
    else this.owner.lost(this.node, error, this.madeConnection);
  }

  private timedOut(): void {
    if (this.over) return;
    this.owner.backendFailed(this.node, new SpryError('SPRY_ERR_BACKEND_TIMEOUT', `no response within ${this.owner.timeoutMs / 1000} s`), 504);
    this.close(false);
  }

  /** The idle timer: re-armed for what is left while bytes keep coming. */
  private idleCheck(): void {
    const idle = Date.now() - this.lastActivity;
    if (idle >= this.owner.timeoutMs) return this.timedOut();
    if (!this.over) this.idleTimer = setTimeout(() => this.idleCheck(), this.owner.timeoutMs - idle);
  }
}
