// One try of a request at a uwsgi node: a fresh connection (the protocol has no keep-alive),
// the packet and the body written, the HTTP/1.x response parsed back into the exchange, the
// connection closed. Connections to an IP address or a unix socket are bare Node handles
// (backend-connection.ts: a third of net.Socket's cost per connection); a host name goes
// through net.Socket, which looks it up. The attempt is its connection's and its parser's
// event sink itself, so a request costs no closure per event. What a failure means (retry,
// 502, 504) is the owner's (forwarding-app.ts); this reports which failure it was.

import { SpryError } from '../errors.ts';
import type { FlatHeaders, ServerExchange } from '../exchange/exchange.ts';
import type { ConnectionEvents } from '../internals/stream-handles.ts';
import { openConnection, type BackendConnection } from './backend-connection.ts';
import type { BackendNode } from './balancer.ts';
import type { BodyTarget, HeldBody } from './held-body.ts';
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

export class UwsgiAttempt implements ConnectionEvents, ResponseSink, BodyTarget {
  private readonly owner: AttemptOwner;
  private readonly node: BackendNode;
  private readonly packet: Buffer;
  private readonly held: HeldBody | undefined;
  private readonly release: () => void;
  private readonly parser: HttpResponseParser;
  private readonly connection: BackendConnection;
  private readonly headDeadline: NodeJS.Timeout;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastActivity = 0;
  private madeConnection = false;
  /** A byte of the response arrived: a failure now is no longer retried elsewhere. */
  private answered = false;
  /** The attempt is over (answered, failed, or handed to a retry): late events change nothing. */
  private over = false;
  private drainWaiter: (() => void) | undefined;

  constructor(owner: AttemptOwner, node: BackendNode, packet: Buffer, held: HeldBody | undefined, release: () => void) {
    this.owner = owner;
    this.node = node;
    this.packet = packet;
    this.held = held;
    this.release = release;
    const exchange = owner.exchange;
    this.parser = new HttpResponseParser(this, exchange.head.method === 'HEAD');
    // The whole head must arrive within the timeout (an idle timeout alone never fires on a
    // backend that trickles its head a byte at a time); an idle timer follows only for a body
    // that does not arrive with the head, which most never need.
    this.headDeadline = setTimeout(() => this.timedOut(), owner.timeoutMs);
    // Nagle could hold back a body's later writes; a lone packet goes out at once either way.
    const noDelay = exchange.head.hasBody || held !== undefined;
    this.connection = openConnection(node.address, this, noDelay);
    exchange.onDrain = () => this.connection.resume();
    exchange.onAbort = () => this.close();
  }

  get destroyed(): boolean {
    return this.over || this.connection.destroyed;
  }

  // ── the connection's events ──────────────────────────────────────────────

  connected(): void {
    this.madeConnection = true;
    this.owner.markAlive(this.node);
    const exchange = this.owner.exchange;
    this.connection.write(this.packet);
    if (this.held !== undefined) return void this.held.writeTo(this);
    if (!exchange.head.hasBody) return;
    exchange.sendContinue?.(); // the backend reads at once: Expect: 100-continue is answered now
    exchange.setBodySink({
      data: (chunk) => {
        this.lastActivity = Date.now();
        return this.connection.write(chunk);
      },
      end: () => {},
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
      return this.close();
    }
    if (this.idleTimer === undefined && !this.over && this.owner.headSent && !this.parser.done) {
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
    this.close();
  }

  failed(error: NodeJS.ErrnoException): void {
    if (this.over) return;
    if (!this.answered) return this.lost(error);
    this.owner.backendFailed(this.node, error, 502);
    this.close();
  }

  drained(): void {
    const waiter = this.drainWaiter;
    this.drainWaiter = undefined;
    if (waiter !== undefined) waiter();
    else this.owner.exchange.resumeBody();
  }

  // ── the parser's events ──────────────────────────────────────────────────

  head(status: number, headers: FlatHeaders): void {
    clearTimeout(this.headDeadline);
    this.owner.respond(status, headers);
  }

  body(chunk: Buffer): void {
    if (!this.owner.exchange.write(chunk)) this.connection.pause();
  }

  end(): void {
    this.owner.finish();
    this.close();
  }

  // ── the held body's target ───────────────────────────────────────────────

  write(chunk: Buffer): boolean {
    return this.connection.write(chunk);
  }

  whenDrained(): Promise<void> {
    return new Promise((resolve) => {
      this.drainWaiter = resolve;
      if (this.over) resolve();
    });
  }

  // ── endings ──────────────────────────────────────────────────────────────

  /** Ends the attempt: timers off, connection closed, the node's count released. Idempotent. */
  private close(): void {
    if (this.over) return;
    this.over = true;
    clearTimeout(this.headDeadline);
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.connection.destroy();
    this.release();
    this.drainWaiter?.();
  }

  private lost(error: NodeJS.ErrnoException): void {
    this.close();
    this.owner.lost(this.node, error, this.madeConnection);
  }

  private timedOut(): void {
    if (this.over) return;
    this.owner.backendFailed(this.node, new SpryError('SPRY_ERR_BACKEND_TIMEOUT', `no response within ${this.owner.timeoutMs / 1000} s`), 504);
    this.close();
  }

  /** The idle timer: re-armed for what is left while bytes keep coming. */
  private idleCheck(): void {
    const idle = Date.now() - this.lastActivity;
    if (idle >= this.owner.timeoutMs) return this.timedOut();
    if (!this.over) this.idleTimer = setTimeout(() => this.idleCheck(), this.owner.timeoutMs - idle);
  }
}
