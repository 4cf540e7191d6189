// Upgrades through --http-to: an HTTP/1.1 client's upgrade, or an h2 client's extended CONNECT
// as the HTTP/1.1 upgrade it stands for (apps/upgrade.ts), goes to a backend picked as requests
// are; its answer comes back on the client's socket as an HTTP/1.1 response head, which the h2
// tunnel turns into HEADERS (a 101 into :status 200). Outcomes:
//   101 Switching Protocols          → bytes both ways until either side closes; the node
//                                      counts as outstanding until then
//   any other answer                 → relayed as is; the client's connection (h2: stream)
//                                      ends after it
//   refused / timed out / bad head   → 502 / 504, one retry on another node as for requests
//   the backend dies after the 101   → the client's socket is cut (h2: RST_STREAM); a clean
//                                      end is passed on as one (FIN, END_STREAM)
// HTTP backends get the request with Upgrade and Connection kept; uwsgi backends get them as
// HTTP_UPGRADE and HTTP_CONNECTION (uWSGI's websocket API answers 101 on the connection).

import { request as httpRequest, STATUS_CODES, type Agent, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { UpgradeHandler } from '../apps/app.ts';
import { tunnelUpgradeHeaders } from '../apps/upgrade.ts';
import { buildEnviron } from '../exchange/environ.ts';
import type { FlatHeaders, RequestHead } from '../exchange/exchange.ts';
import { GOING_AWAY_FRAME, isWebSocket, markWebSocket } from '../exchange/going-away.ts';
import { logLine } from '../log.ts';
import { upgradeBackend } from '../observe/observed-upgrade.ts';
import { encodeUwsgiRequest } from '../uwsgi/packet.ts';
import { connectUwsgi, HOP_BY_HOP, httpBackendHeaders, httpTarget } from './backend-requests.ts';
import type { Balancer, BackendNode } from './balancer.ts';
import type { ForwardingOptions } from './forwarding-app.ts';
import { HttpResponseParser } from './http-response-parser.ts';
import { FrameCursor } from './websocket-frames.ts';

const EMPTY = Buffer.alloc(0);

export function forwardedUpgrades(balancer: Balancer, options: ForwardingOptions, agent: Agent): UpgradeHandler {
  const start = (head: RequestHead, socket: Duplex, early: Buffer): void => {
    const upgrade = new ForwardedUpgrade(head, socket, early, balancer, options, agent);
    const node = balancer.pick();
    if (node === undefined) return upgrade.fail(502, 'no backend configured');
    upgrade.start(node, true);
  };
  return {
    // The backend decides: whatever it answers is relayed.
    accepts: () => true,
    serve: (_req, socket, early, head) => start(head, socket, early),
    serveTunnel: (head, protocol, socket) => start({ ...head, headers: tunnelUpgradeHeaders(head, protocol) }, socket, EMPTY),
  };
}

class ForwardedUpgrade {
  private readonly head: RequestHead;
  private readonly client: Duplex;
  /** What the client sent after its request head: the new protocol's, held until the 101. */
  private readonly early: Buffer;
  private readonly balancer: Balancer;
  private readonly options: ForwardingOptions;
  private readonly agent: Agent;
  private answered = false;
  /** Drops the backend's connection (on a timeout). */
  private abortBackend: () => void = () => {};

  constructor(head: RequestHead, client: Duplex, early: Buffer, balancer: Balancer, options: ForwardingOptions, agent: Agent) {
    this.head = head;
    this.client = client;
    this.early = early;
    this.balancer = balancer;
    this.options = options;
    this.agent = agent;
    client.on('error', () => {}); // 'close' follows
  }

  start(node: BackendNode, mayRetry: boolean): void {
    node.outstanding++;
    // The access line names the node tried last (a retry's).
    upgradeBackend(this.client, node.label);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      node.outstanding--;
    };
    if (this.client.destroyed) return release();
    const headDeadline = setTimeout(() => {
      this.fail(504, `no response within ${this.options.timeoutMs / 1000} s`, node);
      this.abortBackend();
    }, this.options.timeoutMs);
    const done = (): void => {
      clearTimeout(headDeadline);
      release();
    };
    const connectFailed = (error: NodeJS.ErrnoException): void => {
      done();
      if (this.answered) return; // timed out already
      this.balancer.markDead(node);
      logLine(`backend ${node.label}: ${error.code ?? error.message}; marked dead`);
      const other = mayRetry ? this.balancer.pick(node) : undefined;
      if (other !== undefined && other !== node && !this.client.destroyed) return this.start(other, false);
      this.fail(502, error.message);
    };
    const answered = (): void => {
      clearTimeout(headDeadline);
      this.balancer.markAlive(node);
    };
    if (node.address.kind === 'http') this.viaHttp(node, { answered, done, connectFailed });
    else this.viaUwsgi(node, { answered, done, connectFailed });
  }

  // ── backends ─────────────────────────────────────────────────────────────

  private viaHttp(node: BackendNode, outcome: Outcome): void {
    const { head } = this;
    const address = node.address as Extract<BackendNode['address'], { kind: 'http' }>;
    const headers = httpBackendHeaders(head);
    headers.upgrade = headerValues(head.headers, 'upgrade');
    headers.connection = 'Upgrade';
    let connected = false;
    const req = httpRequest({ ...httpTarget(address), method: head.method, path: head.target, headers, agent: this.agent });
    req.on('socket', (socket: Socket) => {
      if (!socket.connecting) connected = true;
      else socket.once('connect', () => (connected = true));
    });
    req.once('upgrade', (res: IncomingMessage, backend: Socket, rest: Buffer) => {
      outcome.answered();
      this.switched(backend, flatten(res.rawHeaders), rest, outcome.done);
    });
    req.once('response', (res: IncomingMessage) => {
      outcome.answered();
      this.refused(res.statusCode ?? 502, flatten(res.rawHeaders));
      res.on('data', (chunk: Buffer) => {
        if (!this.client.write(chunk)) res.pause();
      });
      this.client.on('drain', () => res.resume());
      res.once('end', () => {
        this.client.end();
        outcome.done();
      });
      res.once('aborted', () => {
        this.client.destroy();
        outcome.done();
      });
      res.once('error', () => {});
    });
    req.once('error', (error: NodeJS.ErrnoException) => {
      if (!connected) return outcome.connectFailed(error);
      outcome.done();
      this.fail(502, error.message, node);
    });
    this.abortBackend = () => req.destroy();
    this.client.once('close', () => req.destroy());
    req.end();
  }

  private viaUwsgi(node: BackendNode, outcome: Outcome): void {
    let packet: Buffer;
    try {
      packet = encodeUwsgiRequest({ ...buildEnviron(this.head), ...this.options.extraVars });
    } catch (error) {
      outcome.done();
      return this.fail(431, (error as Error).message);
    }
    const socket = connectUwsgi(node.address);
    let connected = false;
    socket.setNoDelay(true);
    this.abortBackend = () => socket.destroy();
    const parser = new HttpResponseParser(
      {
        head: (status, headers) => {
          outcome.answered();
          this.refused(status, headers);
        },
        body: (chunk) => {
          if (!this.client.write(chunk)) socket.pause();
        },
        end: () => {
          this.client.end();
          socket.destroy();
        },
        switched: (headers, rest) => {
          outcome.answered();
          socket.removeListener('data', read);
          this.switched(socket, headers, rest, outcome.done);
        },
      },
      false,
    );
    const read = (chunk: Buffer): void => {
      try {
        parser.push(chunk);
      } catch (error) {
        socket.destroy();
        this.fail(502, (error as Error).message, node);
      }
    };
    socket.on('data', read);
    this.client.on('drain', () => socket.resume());
    socket.once('connect', () => {
      connected = true;
      socket.write(packet);
    });
    socket.once('end', () => {
      if (parser.done) return;
      try {
        parser.close();
      } catch (error) {
        this.fail(502, (error as Error).message, node);
      }
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (!connected) return outcome.connectFailed(error);
      this.fail(502, error.message, node);
    });
    socket.once('close', () => {
      if (connected) outcome.done();
      if (!parser.done) this.client.destroy();
    });
    this.client.once('close', () => {
      if (!parser.done) socket.destroy();
    });
  }

  // ── answers ──────────────────────────────────────────────────────────────

  /** The backend switched protocols: its 101 goes to the client, then bytes both ways. */
  private switched(backend: Socket, headers: FlatHeaders, rest: Buffer, closed: () => void): void {
    const client = this.client;
    this.answered = true;
    backend.setTimeout(0);
    backend.setNoDelay(true);
    client.write(responseHead(101, headers, false));
    if (rest.length > 0) client.write(rest);
    if (this.early.length > 0) backend.write(this.early);
    // Backend to client by hand, to know where its frames end when spry has to go away.
    const frames = isWebSocket(headerValues(this.head.headers, 'upgrade')) ? new FrameCursor() : undefined;
    if (frames !== undefined) frames.advance(rest);
    let leaving = false;
    const leave = (): void => {
      client.end(GOING_AWAY_FRAME);
      backend.destroy();
    };
    backend.on('data', (chunk: Buffer) => {
      if (leaving) {
        const upTo = frames!.advance(chunk, true);
        client.write(chunk.subarray(0, upTo));
        if (frames!.atBoundary) leave();
        return;
      }
      frames?.advance(chunk);
      if (!client.write(chunk)) backend.pause();
    });
    client.on('drain', () => backend.resume());
    backend.once('end', () => client.end());
    client.pipe(backend);
    if (frames !== undefined) {
      markWebSocket(client, () => {
        leaving = true;
        if (frames.atBoundary) leave();
        else backend.resume();
      });
    }
    backend.once('error', () => {}); // 'close' follows
    backend.once('close', () => {
      closed();
      // Died rather than ended: the client's socket is cut (an h2 tunnel resets its stream).
      if (!backend.readableEnded && !leaving) client.destroy();
    });
    client.once('close', () => backend.destroy());
  }

  /** The backend answered, but did not switch: its response goes out as is, then the connection ends. */
  private refused(status: number, headers: FlatHeaders): void {
    this.answered = true;
    this.client.write(responseHead(status, headers, true));
  }

  /** Before the backend answered: an error status as a whole response. */
  fail(status: number, reason: string, node?: BackendNode): void {
    if (node !== undefined) logLine(`backend ${node.label}: ${reason}`);
    if (this.answered || this.client.destroyed) {
      this.client.destroy();
      return;
    }
    this.answered = true;
    const body = `${STATUS_CODES[status]}: ${reason}\n`;
    this.client.end(responseHead(status, ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(body))], true) + body);
  }
}

interface Outcome {
  /** The backend answered: no more deadline, and the node is alive. */
  answered(): void;
  /** The backend's side is over: the node has one outstanding less. */
  done(): void;
  /** No connection to the backend: another node, or 502. */
  connectFailed(error: NodeJS.ErrnoException): void;
}

/** An HTTP/1.1 response head; `close` for one the connection ends after. */
function responseHead(status: number, headers: FlatHeaders, close: boolean): string {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i].toLowerCase();
    // A 101 keeps its Upgrade and Connection: they are what it says.
    if (status !== 101 && HOP_BY_HOP.has(name)) continue;
    head += `${name}: ${headers[i + 1]}\r\n`;
  }
  return `${head}${close ? 'connection: close\r\n' : ''}\r\n`;
}

function flatten(raw: string[]): FlatHeaders {
  const flat: FlatHeaders = [];
  for (let i = 0; i < raw.length; i += 2) flat.push(raw[i].toLowerCase(), raw[i + 1]);
  return flat;
}

function headerValues(headers: FlatHeaders, name: string): string {
  const values: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) values.push(headers[i + 1]);
  return values.join(', ');
}
