// One try of a request at a uwsgi node: a fresh connection (the protocol has no keep-alive),
// the packet and the body written, the HTTP/1.x response parsed back into the exchange, the
// connection closed. Connections to an IP address or a unix socket are bare Node handles
// (backend-connection.ts: a third of net.Socket's cost per connection); a host name goes
// through net.Socket, which looks it up. Parsing, timing and what each failure was are
// backend-attempt.ts's.

import type { BackendNode } from './balancer.ts';
import { BackendAttempt, type AttemptOwner } from './backend-attempt.ts';
import { openConnection, type BackendConnection } from './backend-connection.ts';
import type { BodyTarget, HeldBody } from './held-body.ts';

export class UwsgiAttempt extends BackendAttempt implements BodyTarget {
  private readonly packet: Buffer;
  private readonly held: HeldBody | undefined;
  protected readonly connection: BackendConnection;
  private drainWaiter: (() => void) | undefined;

  constructor(owner: AttemptOwner, node: BackendNode, packet: Buffer, held: HeldBody | undefined, release: () => void) {
    super(owner, node, release);
    this.packet = packet;
    this.held = held;
    // Nagle could hold back a body's later writes; a lone packet goes out at once either way.
    const noDelay = owner.exchange.head.hasBody || held !== undefined;
    this.connection = openConnection(node.address, this, noDelay);
  }

  get destroyed(): boolean {
    return this.over || this.connection.destroyed;
  }

  // ── the connection's events ──────────────────────────────────────────────

  drained(): void {
    const waiter = this.drainWaiter;
    this.drainWaiter = undefined;
    if (waiter !== undefined) waiter();
    else this.owner.exchange.resumeBody();
  }

  // ── the request ──────────────────────────────────────────────────────────

  protected sendRequest(): boolean {
    this.connection.write(this.packet);
    if (this.held !== undefined) {
      void this.held.writeTo(this);
      return false;
    }
    return this.owner.exchange.head.hasBody;
  }

  protected writeBody(chunk: Buffer): boolean {
    return this.connection.write(chunk);
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

  protected reusable(): boolean {
    return false;
  }

  protected closeConnection(): void {
    this.connection.destroy();
    this.drainWaiter?.();
  }
}
