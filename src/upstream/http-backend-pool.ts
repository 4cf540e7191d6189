// The kept-alive connections to one HTTP/1.1 backend: a request takes an idle one (the most
// recently used, whose peer is likeliest to keep it) or opens a new one, and gives it back
// when its response ended cleanly. At most MAX_IDLE wait per backend, each for IDLE_MS: below
// node:http's default keepAliveTimeout (5 s), so a Node backend rarely closes one under a new
// request. One it did close anyway fails before any response byte, and the request is retried
// once on a fresh connection (http-attempt.ts). An idle connection that gets bytes or an end
// from its backend is closed and dropped: nothing may arrive between responses. Idle ones do not
// keep the process alive (as node:http's Agent unrefs its free sockets): spry exits at once.

import type { ConnectionEvents } from '../internals/stream-handles.ts';
import { openConnection, type BackendConnection } from './backend-connection.ts';
import type { BackendNode } from './balancer.ts';

const MAX_IDLE = 64;
const IDLE_MS = 4_000;

export class HttpBackendPool {
  private readonly node: BackendNode;
  private readonly idleMs: number;
  private readonly idle: PooledConnection[] = [];

  constructor(node: BackendNode, idleMs = IDLE_MS) {
    this.node = node;
    this.idleMs = idleMs;
  }

  /** An idle connection for `user` (already connected: `reused`), or a new one that reports connected(). */
  take(user: ConnectionEvents, fresh: boolean): PooledConnection {
    const connection = fresh ? undefined : this.idle.pop();
    if (connection !== undefined) {
      connection.lend(user);
      return connection;
    }
    return new PooledConnection(this, this.node, user);
  }

  /** Keeps `connection` for the next request, unless enough wait already. */
  keep(connection: PooledConnection): void {
    if (this.idle.length >= MAX_IDLE) return connection.destroy();
    this.idle.push(connection);
    connection.rest(this.idleMs);
  }

  forget(connection: PooledConnection): void {
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
  }
}

/** One connection of the pool: its events go to the request using it, or close it while idle. */
export class PooledConnection implements ConnectionEvents {
  /** It served a request before this one (and was connected when taken). */
  reused = false;
  private readonly pool: HttpBackendPool;
  private readonly connection: BackendConnection;
  private user: ConnectionEvents | undefined;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(pool: HttpBackendPool, node: BackendNode, user: ConnectionEvents) {
    this.pool = pool;
    this.user = user;
    // Heads and bodies go in separate writes: Nagle must not hold the second back.
    this.connection = openConnection(node.address, this, true);
  }

  lend(user: ConnectionEvents): void {
    clearTimeout(this.idleTimer);
    this.connection.ref();
    this.reused = true;
    this.user = user;
  }

  rest(idleMs: number): void {
    this.user = undefined;
    this.connection.resume(); // an idle connection still hears its backend close it
    this.connection.unref();
    this.idleTimer = setTimeout(() => this.destroy(), idleMs);
    this.idleTimer.unref();
  }

  write(chunk: Buffer): boolean {
    return this.connection.write(chunk);
  }

  pause(): void {
    this.connection.pause();
  }

  resume(): void {
    this.connection.resume();
  }

  destroy(): void {
    clearTimeout(this.idleTimer);
    this.user = undefined;
    this.pool.forget(this);
    this.connection.destroy();
  }

  /** The request ended with it: back into the pool if `clean`, else closed. */
  release(clean: boolean): void {
    if (clean && !this.connection.destroyed) this.pool.keep(this);
    else this.destroy();
  }

  // ── the connection's events ──────────────────────────────────────────────

  connected(): void {
    this.user?.connected();
  }

  received(chunk: Buffer): void {
    if (this.user === undefined) return this.destroy();
    this.user.received(chunk);
  }

  ended(): void {
    if (this.user === undefined) return this.destroy();
    this.user.ended();
  }

  failed(error: NodeJS.ErrnoException): void {
    const user = this.user;
    this.destroy();
    user?.failed(error);
  }

  drained(): void {
    this.user?.drained();
  }
}
