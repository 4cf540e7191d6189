// What serves a listener's connections, apart from where they are accepted: the listener's own
// bound socket in a single process or in createServer, or a master that accepts and hands
// sockets to workers.

import type { Server as HttpServer } from 'node:http';
import type { AddressInfo, Server, Socket } from 'node:net';
import { GOING_AWAY_FLUSH_MS } from '../exchange/going-away.ts';
import type { FrontEnd } from './front-end.ts';

export interface ConnectionHandler {
  /** The protocols offered, in order, for the startup log. */
  readonly protocols: readonly string[];
  /** The server whose 'connection' handling serves them; bind it to accept here. */
  readonly server: Server;
  /** Serves a connection accepted elsewhere. */
  accept(socket: Socket): void;
  /**
   * Stops taking new work (GOAWAY on SPDY and h2, no more keep-alive on HTTP/1.1) and resolves
   * once every connection has ended, destroying what is left after `graceMs` (never, without it).
   */
  drain(graceMs?: number): Promise<void>;
  /** Closes the connections serving nothing right now. */
  closeIdle(): void;
  /** Destroys every connection at once. */
  closeAll(): void;
  /** The node:http servers behind its HTTP/1.1 front ends (createServer forwards http.Server's knobs to them). */
  readonly http1Servers: readonly HttpServer[];
}

/** A bound ConnectionHandler. */
export interface Listener {
  /** node:net's address(): host and port, or a unix socket's path. */
  readonly address: AddressInfo | string;
  readonly protocols: readonly string[];
  close(graceMs?: number): Promise<void>;
}

/** Tracks a handler's open connections so drain() can wait for them. */
export class ConnectionSet {
  private readonly sockets = new Set<Socket>();
  private idle: (() => void) | null = null;

  add(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      if (this.sockets.size === 0) this.idle?.();
    });
  }

  /**
   * Resolves when no connection is left, destroying the rest after `graceMs` (if given); when
   * `goAway` then says upgraded connections are closing gently, GOING_AWAY_FLUSH_MS later.
   */
  whenEmpty(graceMs?: number, goAway: () => boolean = () => false): Promise<void> {
    if (this.sockets.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer = graceMs === undefined ? undefined : setTimeout(() => {
        if (!goAway()) return this.destroyAll();
        timer = setTimeout(() => this.destroyAll(), GOING_AWAY_FLUSH_MS);
        timer.unref();
      }, graceMs);
      timer?.unref();
      this.idle = () => {
        clearTimeout(timer);
        this.idle = null;
        resolve();
      };
    });
  }

  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** The ConnectionHandler of `server`, whose connections these are, served by `frontEnds`. */
  handler(server: Server, protocols: readonly string[], frontEnds: Iterable<FrontEnd>): ConnectionHandler {
    const http1Servers = [...frontEnds].flatMap((frontEnd) => (frontEnd.http1Server === undefined ? [] : [frontEnd.http1Server]));
    return {
      http1Servers,
      protocols,
      server,
      accept: (socket) => server.emit('connection', socket),
      drain: (graceMs) => {
        for (const frontEnd of frontEnds) frontEnd.close();
        return this.whenEmpty(graceMs, () => [...frontEnds].map((frontEnd) => frontEnd.goAway?.() ?? false).includes(true));
      },
      closeIdle: () => {
        for (const frontEnd of frontEnds) frontEnd.closeIdle();
      },
      closeAll: () => this.destroyAll(),
    };
  }
}
