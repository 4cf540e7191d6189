// The app of a router: each request, from any front end, goes to a backend over the uwsgi
// protocol (a real uWSGI worker running a WSGI app, say) or over HTTP/1.1, and the response
// streams back. Failures map to statuses in one table:
//   connection refused, or reset before any byte  → retried on another node (a refused one
//   of the response arrived                          is marked dead) when nothing was sent yet or
//                                                     the request is idempotent (GET, HEAD,
//                                                     OPTIONS with no body, or one spry holds
//                                                     whole), as nginx's proxy_next_upstream;
//                                                     502 when no node is left to try, or,
//                                                     for backends that are respawned (spry's
//                                                     managed uWSGI workers), when none came
//                                                     back within the wait (respawn-wait.ts)
//   a kept-alive HTTP connection the backend        → the same request once more on a new
//   closed before any byte of the response             connection, under the same rule
//   a body without a length, to a uwsgi node        → held whole (held-body.ts), sent with
//                                                     CONTENT_LENGTH; 413 past its bound
//   no response head within --http-timeout          → 504
//   a malformed response                            → 502
//   the backend dies after the response started     → the stream is reset (RST_STREAM on
//                                                     SPDY/h2, a cut connection on HTTP/1.1)

import { Agent, STATUS_CODES } from 'node:http';
import type { App } from '../apps/app.ts';
import { SpryError } from '../errors.ts';
import { buildEnviron } from '../exchange/environ.ts';
import { headerValue } from '../exchange/flat-headers.ts';
import type { FlatHeaders, ServerExchange } from '../exchange/exchange.ts';
import { logLine } from '../log.ts';
import { describeRequest } from '../observe/access-record.ts';
import { Balancer, type BackendNode } from './balancer.ts';
import { forwardedUpgrades } from './forwarded-upgrade.ts';
import { encodeUwsgiRequest } from '../uwsgi/packet.ts';
import { UwsgiAttempt } from './uwsgi-attempt.ts';
import { HttpAttempt, type HttpAttemptOwner } from './http-attempt.ts';
import { HttpBackendPool } from './http-backend-pool.ts';
import { BodyTooLarge, HELD_BODY_MAX_BYTES, holdBody, type HeldBody } from './held-body.ts';
import { RespawnWait } from './respawn-wait.ts';

export interface ForwardingOptions {
  readonly timeoutMs: number;
  /** Extra variables for every request (uWSGI's --http-var). */
  readonly extraVars?: Readonly<Record<string, string>>;
  /** A length-less body for a uwsgi node is held in memory up to this (read-buffer), then on disk… */
  readonly heldBodyMemoryBytes?: number;
  /** …up to this in all (--limit-post; HELD_BODY_MAX_BYTES without it). */
  readonly heldBodyMaxBytes?: number;
  /** The backends are respawned when they die: a retry with no node left waits this long for one. */
  readonly respawnWaitMs?: number;
}

/** Methods a backend may see twice (RFC 9110 §9.2.2), retried when their backend fails before answering. */
const RETRIABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What every request of one forwarding app shares. */
interface Shared {
  readonly balancer: Balancer;
  readonly options: ForwardingOptions;
  /** The kept-alive connections of each HTTP node. */
  readonly pools: Map<BackendNode, HttpBackendPool>;
  readonly respawns: RespawnWait | undefined;
}

export function forwardingApp(balancer: Balancer, options: ForwardingOptions): App {
  // Upgrades (a connection each, never given back) go through node:http. Not a keep-alive
  // agent: a refused upgrade's connection is closed after its answer, for the backend may still
  // wait on it for a body the request declared and spry never sent (it follows a 101 only), and
  // would read the next upgrade given that connection as that body.
  const agent = new Agent({ keepAlive: false });
  const shared: Shared = {
    balancer,
    options,
    pools: new Map(balancer.nodes.filter((node) => node.address.kind === 'http').map((node) => [node, new HttpBackendPool(node)])),
    respawns: options.respawnWaitMs === undefined ? undefined : new RespawnWait(options.respawnWaitMs),
  };
  return {
    style: 'node-listener',
    serve(exchange) {
      const node = balancer.pick();
      if (node === undefined) return fail(exchange, 502, 'no backend configured');
      new Forward(exchange, shared).start(node);
    },
    upgrade: forwardedUpgrades(balancer, options, agent),
  };
}

class Forward implements HttpAttemptOwner {
  readonly exchange: ServerExchange;
  /** The app's balancer, options, HTTP pools and respawn wait, the same for every request. */
  private readonly shared: Shared;
  /** When this request first found no backend to retry on and began waiting for a respawn. */
  private waitingSince: number | undefined;
  headSent = false;
  private finished = false;
  /** Nodes tried so far (each at most once). */
  private readonly tried = new Set<BackendNode>();
  /** A length-less body, held whole for a uwsgi node. */
  private held: HeldBody | undefined;

  constructor(exchange: ServerExchange, shared: Shared) {
    this.exchange = exchange;
    this.shared = shared;
  }

  /** Forwards to `node`; `fresh`: on a new connection, not a kept-alive one. */
  start(node: BackendNode, fresh = false): void {
    const head = this.exchange.head;
    if (node.address.kind !== 'http' && head.hasBody && this.held === undefined && headerValue(head.headers, 'content-length') === undefined) {
      return this.holdBodyThen(node);
    }
    this.tried.add(node);
    node.outstanding++;
    this.exchange.backend = node.label;
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        node.outstanding--;
      }
    };
    if (node.address.kind === 'http') new HttpAttempt(this, node, this.shared.pools.get(node)!, release, fresh);
    else this.viaUwsgi(node, release);
  }

  /** Reads the whole body first (a uwsgi worker reads exactly CONTENT_LENGTH bytes), then forwards. */
  private holdBodyThen(node: BackendNode): void {
    const memoryBytes = this.shared.options.heldBodyMemoryBytes ?? this.exchange.buffers.readBytes;
    holdBody(this.exchange, memoryBytes, this.shared.options.heldBodyMaxBytes ?? HELD_BODY_MAX_BYTES).then(
      (held) => {
        this.held = held;
        if (this.exchange.aborted) return held.dispose();
        // Time has passed: the least busy node may be another now.
        this.start(this.shared.balancer.pick() ?? node);
      },
      (error: unknown) => {
        if (error instanceof BodyTooLarge) fail(this.exchange, 413, error.message);
      },
    );
  }

  /**
   * True when `node`'s failure may be retried elsewhere: nothing of the request left spry (no
   * byte of its body taken from the client either), or it is idempotent and spry holds all of it.
   */
  private mayRetry(nothingSent: boolean): boolean {
    if (this.headSent || this.finished || this.exchange.aborted) return false;
    if (nothingSent) return true;
    const whole = !this.exchange.head.hasBody || this.held !== undefined;
    return whole && RETRIABLE_METHODS.has(this.exchange.head.method);
  }

  /** Tries another node if the rule allows and one is left; false when the caller must answer the failure. */
  private retryElsewhere(node: BackendNode, error: NodeJS.ErrnoException, nothingSent: boolean): boolean {
    if (!this.mayRetry(nothingSent)) return false;
    const other = this.shared.balancer.pick(node);
    if (other === undefined || this.tried.has(other)) return this.awaitRespawn(node, error);
    logLine(`backend ${node.label}: ${error.code ?? error.message} before answering; retrying on ${other.label} (${describeRequest(this.exchange.head)})`);
    this.start(other);
    return true;
  }

  /** No node left to try, but they come back: tries again shortly (logged once per request). */
  private awaitRespawn(node: BackendNode, error: NodeJS.ErrnoException): boolean {
    if (this.shared.respawns === undefined) return false;
    if (this.waitingSince === undefined) {
      this.waitingSince = Date.now();
      logLine(`backend ${node.label}: ${error.code ?? error.message} before answering, no other to try; waiting up to ${this.shared.respawns.limitMs / 1000} s for a respawned one (${describeRequest(this.exchange.head)})`);
    }
    return this.shared.respawns.schedule(this.waitingSince, this.exchange, () => this.start(this.shared.balancer.pick() ?? node));
  }

  // ── uwsgi ────────────────────────────────────────────────────────────────

  private viaUwsgi(node: BackendNode, release: () => void): void {
    const head = this.exchange.head;
    const held = this.held;
    let packet: Buffer;
    try {
      const environ = buildEnviron(head);
      if (held !== undefined) {
        environ.CONTENT_LENGTH = String(held.length);
        delete environ.HTTP_TRANSFER_ENCODING; // the body goes as CONTENT_LENGTH bytes, not chunked
      }
      packet = encodeUwsgiRequest(this.shared.options.extraVars === undefined ? environ : { ...environ, ...this.shared.options.extraVars });
    } catch (error) {
      release();
      return fail(this.exchange, 431, (error as Error).message);
    }
    new UwsgiAttempt(this, node, packet, held, release);
  }

  get timeoutMs(): number {
    return this.shared.options.timeoutMs;
  }

  markAlive(node: BackendNode): void {
    this.shared.balancer.markAlive(node);
  }

  /**
   * A uwsgi attempt's connection failed before any byte of the response (the attempt is closed).
   * Only a connection that could not be made marks the node dead: one that was accepted and then
   * reset tells of the process that accepted it, not of the address. (A reloaded managed worker's
   * old process resets its backlog as it exits, while its socket already names the new one; a
   * node that really died refuses the next connection, and is marked dead then.)
   */
  lost(node: BackendNode, error: NodeJS.ErrnoException, connected: boolean): void {
    if (!connected) return this.connectFailed(node, error, true); // the body sink is set on connect
    if (!this.retryElsewhere(node, error, false)) this.backendFailed(node, error, 502);
  }

  // ── HTTP ─────────────────────────────────────────────────────────────────

  /**
   * A kept-alive connection the backend had closed: not the node's failure. Once more on a new
   * connection if the request may be sent twice (its head went out: RFC 9112 §9.3.1).
   */
  retryFresh(node: BackendNode, error: NodeJS.ErrnoException): void {
    if (this.mayRetry(false)) return this.start(node, true);
    this.backendFailed(node, error, 502);
  }

  // ── outcomes ─────────────────────────────────────────────────────────────

  respond(status: number, headers: FlatHeaders): void {
    if (this.exchange.aborted) return;
    this.headSent = true;
    this.exchange.respond(status, headers, false);
  }

  finish(): void {
    this.held?.dispose();
    if (this.finished || this.exchange.aborted) return;
    this.finished = true;
    this.exchange.end();
  }

  private connectFailed(node: BackendNode, error: NodeJS.ErrnoException, bodyUntouched: boolean): void {
    this.shared.balancer.markDead(node);
    if (this.waitingSince === undefined) logLine(`backend ${node.label}: ${error.code ?? error.message}; marked dead (on ${describeRequest(this.exchange.head)})`);
    if (this.retryElsewhere(node, error, bodyUntouched)) return;
    this.backendFailed(node, error, 502, false);
  }

  /** Before the response head: an error status. After it: the stream is cut. */
  backendFailed(node: BackendNode, error: Error, status: 502 | 504, log = true): void {
    if (this.finished || this.exchange.aborted) return;
    if (log) logLine(`backend ${node.label}: ${(error as NodeJS.ErrnoException).code ?? error.message} (on ${describeRequest(this.exchange.head)})`);
    this.finished = true;
    this.held?.dispose();
    if (!this.headSent) fail(this.exchange, status, error.message);
    else this.exchange.abort();
  }
}

function fail(exchange: ServerExchange, status: number, reason: string): void {
  if (exchange.aborted || exchange.responded) return;
  exchange.respond(status, ['content-type', 'text/plain; charset=utf-8'], false);
  exchange.end(Buffer.from(`${STATUS_CODES[status]}: ${reason}\n`));
}
