// The app of a router: each request, from any front end, goes to a backend over the uwsgi
// protocol (a real uWSGI worker running a WSGI app, say) or over HTTP/1.1, and the response
// streams back. Failures map to statuses in one table:
//   connection refused/reset before the response  → 502 (the node is marked dead; one retry
//                                                     on another node if nothing was sent)
//   no response head within --http-timeout          → 504
//   a malformed response                            → 502
//   the backend dies after the response started     → the stream is reset (RST_STREAM on
//                                                     SPDY/h2, a cut connection on HTTP/1.1)

import { request as httpRequest, Agent, STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { App } from '../apps/app.ts';
import { SpryError } from '../errors.ts';
import { buildEnviron } from '../exchange/environ.ts';
import { headerValue } from '../exchange/flat-headers.ts';
import type { FlatHeaders, ServerExchange } from '../exchange/exchange.ts';
import { logLine } from '../log.ts';
import { describeRequest } from '../observe/access-record.ts';
import { connectUwsgi, HOP_BY_HOP, httpBackendHeaders, httpTarget } from './backend-requests.ts';
import { Balancer, type BackendNode } from './balancer.ts';
import { forwardedUpgrades } from './forwarded-upgrade.ts';
import { HttpResponseParser } from './http-response-parser.ts';
import { encodeUwsgiRequest } from '../uwsgi/packet.ts';

export interface ForwardingOptions {
  readonly timeoutMs: number;
  /** Extra variables for every request (uWSGI's --http-var). */
  readonly extraVars?: Readonly<Record<string, string>>;
}

export function forwardingApp(balancer: Balancer, options: ForwardingOptions): App {
  const agent = new Agent({ keepAlive: true, maxFreeSockets: 64 });
  return {
    style: 'node-listener',
    serve(exchange) {
      const node = balancer.pick();
      if (node === undefined) return fail(exchange, 502, 'no backend configured');
      new Forward(exchange, balancer, options, agent).start(node, true);
    },
    upgrade: forwardedUpgrades(balancer, options, agent),
  };
}

class Forward {
  private readonly exchange: ServerExchange;
  private readonly balancer: Balancer;
  private readonly options: ForwardingOptions;
  private readonly agent: Agent;
  private headSent = false;
  private finished = false;

  constructor(exchange: ServerExchange, balancer: Balancer, options: ForwardingOptions, agent: Agent) {
    this.exchange = exchange;
    this.balancer = balancer;
    this.options = options;
    this.agent = agent;
  }

  start(node: BackendNode, mayRetry: boolean): void {
    node.outstanding++;
    this.exchange.backend = node.label;
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        node.outstanding--;
      }
    };
    if (node.address.kind === 'http') this.viaHttp(node, mayRetry, release);
    else this.viaUwsgi(node, mayRetry, release);
  }

  // ── uwsgi ────────────────────────────────────────────────────────────────

  private viaUwsgi(node: BackendNode, mayRetry: boolean, release: () => void): void {
    const exchange = this.exchange;
    const head = exchange.head;
    const contentLength = headerValue(head.headers, 'content-length');
    if (head.hasBody && contentLength === undefined) {
      // A uwsgi worker reads exactly CONTENT_LENGTH bytes of body; without it there is no way
      // to pass one but buffering it whole, which spry will not do.
      release();
      return fail(exchange, 411, 'a request body needs a Content-Length to reach a uwsgi backend');
    }
    let packet: Buffer;
    try {
      packet = encodeUwsgiRequest({ ...buildEnviron(head), ...this.options.extraVars });
    } catch (error) {
      release();
      return fail(exchange, 431, (error as Error).message);
    }
    const socket = connectUwsgi(node.address);
    let connected = false;
    socket.setNoDelay(true);
    socket.setTimeout(this.options.timeoutMs);
    const timedOut = (): void => {
      this.backendFailed(node, new SpryError('SPRY_ERR_BACKEND_TIMEOUT', `no response within ${this.options.timeoutMs / 1000} s`), 504);
      socket.destroy();
    };
    // The idle timeout alone never fires on a backend that trickles its head a byte at a time:
    // the whole head must arrive within the timeout.
    const headDeadline = setTimeout(timedOut, this.options.timeoutMs);
    const parser = new HttpResponseParser(
      {
        head: (status, headers) => {
          clearTimeout(headDeadline);
          this.respond(status, headers);
        },
        body: (chunk) => {
          if (!exchange.write(chunk)) socket.pause();
        },
        end: () => {
          this.finish();
          socket.destroy();
        },
      },
      head.method === 'HEAD',
    );
    exchange.onDrain = () => socket.resume();
    exchange.onAbort = () => socket.destroy();
    socket.once('connect', () => {
      connected = true;
      this.balancer.markAlive(node);
      socket.write(packet);
      if (!head.hasBody) return;
      exchange.sendContinue?.(); // the backend reads at once: Expect: 100-continue is answered now
      exchange.setBodySink({
        data: (chunk) => socket.write(chunk),
        end: () => {},
      });
      socket.on('drain', () => exchange.resumeBody());
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        parser.push(chunk);
      } catch (error) {
        this.backendFailed(node, error as Error, 502);
        socket.destroy();
      }
    });
    socket.once('end', () => {
      try {
        parser.close();
      } catch (error) {
        this.backendFailed(node, error as Error, 502);
      }
    });
    socket.once('timeout', timedOut);
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (!connected) return this.connectFailed(node, error, mayRetry, release);
      this.backendFailed(node, error, 502);
    });
    socket.once('close', () => {
      clearTimeout(headDeadline);
      release();
    });
  }

  // ── HTTP ─────────────────────────────────────────────────────────────────

  private viaHttp(node: BackendNode, mayRetry: boolean, release: () => void): void {
    const exchange = this.exchange;
    const head = exchange.head;
    const address = node.address as Extract<BackendNode['address'], { kind: 'http' }>;
    const headers = httpBackendHeaders(head, head.headers);
    let connected = false;
    const req = httpRequest({ ...httpTarget(address), method: head.method, path: head.target, headers, agent: this.agent, timeout: this.options.timeoutMs });
    req.on('socket', (socket: Socket) => {
      if (!socket.connecting) connected = true;
      else socket.once('connect', () => (connected = true));
    });
    req.once('response', (res: IncomingMessage) => {
      this.balancer.markAlive(node);
      const flat: FlatHeaders = [];
      for (let i = 0; i < res.rawHeaders.length; i += 2) {
        const name = res.rawHeaders[i].toLowerCase();
        if (!HOP_BY_HOP.has(name)) flat.push(name, res.rawHeaders[i + 1]);
      }
      this.respond(res.statusCode ?? 502, flat);
      exchange.onDrain = () => res.resume();
      res.on('data', (chunk: Buffer) => {
        if (!exchange.write(chunk)) res.pause();
      });
      res.once('end', () => {
        this.finish();
        release();
      });
      res.once('aborted', () => this.backendFailed(node, new SpryError('SPRY_ERR_BACKEND_CLOSED', 'the backend closed the connection in the middle of the body'), 502));
      res.once('error', () => {});
    });
    req.once('timeout', () => req.destroy(new SpryError('SPRY_ERR_BACKEND_TIMEOUT', `no response within ${this.options.timeoutMs / 1000} s`)));
    req.once('error', (error: NodeJS.ErrnoException) => {
      if (!connected && !(error instanceof SpryError)) return this.connectFailed(node, error, mayRetry, release);
      release();
      this.backendFailed(node, error, error instanceof SpryError && error.code === 'SPRY_ERR_BACKEND_TIMEOUT' ? 504 : 502);
    });
    exchange.onAbort = () => req.destroy();
    if (!head.hasBody) {
      req.end();
      return;
    }
    exchange.sendContinue?.();
    exchange.setBodySink({
      data: (chunk) => req.write(chunk),
      end: () => req.end(),
    });
    req.on('drain', () => exchange.resumeBody());
  }

  // ── outcomes ─────────────────────────────────────────────────────────────

  private respond(status: number, headers: FlatHeaders): void {
    if (this.exchange.aborted) return;
    this.headSent = true;
    this.exchange.respond(status, headers, false);
  }

  private finish(): void {
    if (this.finished || this.exchange.aborted) return;
    this.finished = true;
    this.exchange.end();
  }

  private connectFailed(node: BackendNode, error: NodeJS.ErrnoException, mayRetry: boolean, release: () => void): void {
    release();
    this.balancer.markDead(node);
    logLine(`backend ${node.label}: ${error.code ?? error.message}; marked dead (on ${describeRequest(this.exchange.head)})`);
    const other = mayRetry ? this.balancer.pick(node) : undefined;
    if (other !== undefined && other !== node && !this.exchange.aborted) {
      this.start(other, false);
      return;
    }
    this.backendFailed(node, error, 502, false);
  }

  /** Before the response head: an error status. After it: the stream is cut. */
  private backendFailed(node: BackendNode, error: Error, status: 502 | 504, log = true): void {
    if (this.finished || this.exchange.aborted) return;
    if (log) logLine(`backend ${node.label}: ${(error as NodeJS.ErrnoException).code ?? error.message} (on ${describeRequest(this.exchange.head)})`);
    this.finished = true;
    if (!this.headSent) fail(this.exchange, status, error.message);
    else this.exchange.abort();
  }
}

function fail(exchange: ServerExchange, status: number, reason: string): void {
  if (exchange.aborted || exchange.responded) return;
  exchange.respond(status, ['content-type', 'text/plain; charset=utf-8'], false);
  exchange.end(Buffer.from(`${STATUS_CODES[status]}: ${reason}\n`));
}
