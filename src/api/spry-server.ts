// The server createServer returns: a node:tls (or, plain, a node:net) server whose connections
// spry serves, with what http.Server adds that users and their tools rely on. listen(),
// address(), `listening` and the 'listening', 'connection', 'error' and 'close' events are
// node:net's own; close() is graceful on every protocol; 'request' fires for Node-style apps.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server as NetServer } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { ConnectionHandler } from '../listen/connection-handler.ts';

export interface SpryServer extends NetServer {
  /** The protocols offered, in order of preference. */
  readonly protocols: readonly string[];
  /**
   * Stops listening and closes gracefully: GOAWAY on SPDY and h2, no more keep-alive on
   * HTTP/1.1; requests in flight finish. `callback` runs once every connection has closed.
   */
  close(callback?: (error?: Error) => void): this;
  /** Destroys every connection now. */
  closeAllConnections(): void;
  /** Closes the connections serving nothing right now: idle keep-alive ones, sessions with no open stream. */
  closeIdleConnections(): void;
  on(event: 'request', listener: (req: IncomingMessage, res: ServerResponse) => void): this;
  on(event: 'close' | 'listening', listener: () => void): this;
  on(event: 'connection', listener: (socket: import('node:net').Socket) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

type Constructor<T> = abstract new (...args: any[]) => T;

/** What served() adds, named so the emitted .d.ts names it too rather than inlining node's types. */
interface ServedMembers {
  handler: ConnectionHandler | undefined;
  readonly protocols: readonly string[];
  closeAllConnections(): void;
  closeIdleConnections(): void;
}

/** What both kinds of server add to node's: the handler that serves their connections. */
function served<B extends Constructor<NetServer>>(Base: B): B & Constructor<ServedMembers> {
  abstract class Served extends Base {
    handler: ConnectionHandler | undefined;

    get protocols(): readonly string[] {
      return this.handler?.protocols ?? [];
    }

    override close(callback?: (error?: Error) => void): this {
      super.close(callback);
      void this.handler?.drain();
      return this;
    }

    closeAllConnections(): void {
      this.handler?.closeAll();
    }

    closeIdleConnections(): void {
      this.handler?.closeIdle();
    }
  }
  return Served;
}

export class SpryTlsServer extends served(TlsServer) {}
export class SpryPlainServer extends served(NetServer) {}
