// One try of a request at an HTTP/1.1 backend, on a kept-alive connection of its pool
// (http-backend-pool.ts) or a new one: the head written (httpBackendHead), the body as it came
// (Content-Length, counted against it) or chunked when it has no length, the response parsed
// back into the exchange (HttpResponseParser: Content-Length, chunked or close-delimited bodies,
// none after HEAD, 204, 304), and the connection given back when the response left it clean:
// persistent (HTTP/1.1 without Connection: close, HTTP/1.0 only with keep-alive, framing that
// agreed with itself), nothing after the response, the request's body all sent and as long as
// declared. node:http's ClientRequest and Agent did this for ~50 µs more CPU per request.
// Upgrades stay on node:http (forwarded-upgrade.ts).
//
// A reused connection that fails before any response byte was most likely closed by the backend
// between requests: the request goes once more on a fresh connection if the retry rule lets it
// (owner.retryFresh), and the node is not blamed. Parsing, timing and what each failure was are
// backend-attempt.ts's.

import { SpryError } from '../errors.ts';
import { declaredBodyLength, NO_DECLARED_LENGTH } from '../exchange/declared-length.ts';
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
  /** The body's content-length, NO_DECLARED_LENGTH (it goes chunked), or what is wrong with the field. */
  private readonly declared: number | string;
  /** The body has no length: it goes chunked. */
  private readonly chunked: boolean;
  /** Body bytes written so far: with a declared length, they must add up to it. */
  private bodyBytes = 0;
  /** The whole request (head and body) was handed to the connection. */
  private requestSent = false;

  constructor(owner: HttpAttemptOwner, node: BackendNode, pool: HttpBackendPool, release: () => void, fresh: boolean) {
    super(owner, node, release);
    const head = owner.exchange.head;
    this.declared = declaredBodyLength(head.headers);
    this.chunked = head.hasBody && this.declared === NO_DECLARED_LENGTH;
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
    const declared = this.declared;
    // The front ends refuse such heads; should one come anyway, no byte of it goes out.
    const problem = typeof declared === 'string' ? `the request's ${declared}` : !head.hasBody && declared > 0 ? `the request declares content-length ${declared} but has no body` : undefined;
    if (problem !== undefined) {
      this.badBody(problem);
      return false;
    }
    this.connection.write(Buffer.from(httpBackendHead(head, this.chunked ? CHUNKED : ''), 'latin1'));
    if (head.hasBody) return true;
    this.requestSent = true;
    return false;
  }

  protected writeBody(chunk: Buffer): boolean {
    if (this.over) return false; // failed or cut: nothing more is written (a closed connection says false too)
    if (this.chunked) {
      if (chunk.length === 0) return true; // an empty chunk would end the body
      return this.connection.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'), chunk, CRLF]));
    }
    // Bytes past the declared length would reach the backend as the start of a next request.
    this.bodyBytes += chunk.length;
    if (this.bodyBytes <= (this.declared as number)) return this.connection.write(chunk);
    this.badBody(`the request body is longer than its content-length ${this.declared}`);
    return false;
  }

  protected override endBody(): void {
    if (this.over) return;
    if (this.chunked) this.connection.write(LAST_CHUNK);
    // A body shorter than declared would leave the backend taking the next request for its rest.
    else if (this.bodyBytes !== this.declared) return this.badBody(`the request body ended after ${this.bodyBytes} of its content-length ${this.declared} bytes`);
    this.requestSent = true;
  }

  /** The request's body does not match its head: the attempt fails, and the connection is closed, never kept. */
  private badBody(problem: string): void {
    this.fail(new SpryError('SPRY_ERR_BACKEND_BODY_LENGTH', `${problem}; the backend connection is closed`));
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
