// One try of a request at an HTTP/1.1 backend, on a kept-alive connection of its pool
// (http-backend-pool.ts) or a new one: the head written (httpBackendHead), the body as it came
// (Content-Length) or chunked when it has no length, the response parsed back into the exchange
// (HttpResponseParser: Content-Length, chunked or close-delimited bodies, none after HEAD, 204,
// 304), and the connection given back when the response left it clean: persistent (HTTP/1.1
// without Connection: close, HTTP/1.0 only with keep-alive), nothing after the response, the
// request's body all sent. node:http's ClientRequest and Agent did this for ~50 µs more CPU
// per request. Upgrades stay on node:http (forwarded-upgrade.ts).
//
// A reused connection that fails before any response byte was most likely closed by the backend
// between requests: the request goes once more on a fresh connection if the retry rule lets it
// (owner.retryFresh), and the node is not blamed. Parsing, timing and what each failure was are
// backend-attempt.ts's.

import { headerValue } from '../exchange/flat-headers.ts';
import { BackendAttempt, type AttemptOwner } from './backend-attempt.ts';
import { httpBackendHead } from './backend-requests.ts';
import type { BackendNode } from './balancer.ts';
import type { HttpBackendPool, PooledConnection } from './http-backend-pool.ts';

export interface HttpAttemptOwner extends AttemptOwner {
  /** A reused connection failed before any byte of the response: try once more on a new one. */
  retryFresh(node: BackendNode, error: NodeJS.ErrnoException): void;
}

const CHUNKED = 'transfer-encoding: chunked\r\n';
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');

export class HttpAttempt extends BackendAttempt<HttpAttemptOwner> {
  protected readonly connection: PooledConnection;
  /** The body has no length: it goes chunked. */
  private readonly chunked: boolean;
  /** The whole request (head and body) was handed to the connection. */
  private requestSent = false;

  constructor(owner: HttpAttemptOwner, node: BackendNode, pool: HttpBackendPool, release: () => void, fresh: boolean) {
    super(owner, node, release);
    const head = owner.exchange.head;
    this.chunked = head.hasBody && headerValue(head.headers, 'content-length') === undefined;
    this.connection = pool.take(this, fresh);
    if (this.connection.reused) this.connected();
  }

  // ── the connection's events ──────────────────────────────────────────────

  drained(): void {
    this.owner.exchange.resumeBody();
  }

  // ── the request ──────────────────────────────────────────────────────────

  protected sendRequest(): boolean {
    const head = this.owner.exchange.head;
    this.connection.write(Buffer.from(httpBackendHead(head, this.chunked ? CHUNKED : ''), 'latin1'));
    if (head.hasBody) return true;
    this.requestSent = true;
    return false;
  }

  protected writeBody(chunk: Buffer): boolean {
    if (!this.chunked) return this.connection.write(chunk);
    if (chunk.length === 0) return true; // an empty chunk would end the body
    return this.connection.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'), chunk, CRLF]));
  }

  protected override endBody(): void {
    if (this.chunked) this.connection.write(LAST_CHUNK);
    this.requestSent = true;
  }

  // ── endings ──────────────────────────────────────────────────────────────

  /** Persistent, nothing after the response, and the request's body all sent. */
  protected reusable(): boolean {
    return this.parser.persistent && this.parser.excessBytes === 0 && this.requestSent;
  }

  protected closeConnection(reuse: boolean): void {
    this.connection.release(reuse);
  }

  protected override lost(error: NodeJS.ErrnoException): void {
    if (!this.connection.reused) return super.lost(error);
    this.close(false);
    this.owner.retryFresh(this.node, error);
  }
}
