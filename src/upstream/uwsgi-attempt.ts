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

  drained(): void {
    const waiter = this.drainWaiter;
    this.drainWaiter = undefined;
    if (waiter !== undefined) waiter();
    else this.owner.exchange.resumeBody();
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
