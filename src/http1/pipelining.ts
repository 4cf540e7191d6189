// A bound on HTTP/1.1 pipelining: at most maxConcurrentStreams requests of one connection are
// served at once, as an h2 or SPDY session holds at most that many streams. node:http hands
// over every pipelined request it parses at once, and stops reading only when the responses it
// already has back up (their bytes): requests still waiting for an app or a backend cost it
// nothing, so one connection could send thousands and have them all in flight (forwarded, a
// backend connection each). A request past the bound waits here, and the connection is not read
// until one in flight is answered (node:http keeps the responses in order whatever the order
// they are served in). What waits is bounded by one read's worth of request heads.

import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { assignedResponse, pauseHttpReads, resumeHttpReads } from '../internals/node-internals.ts';

const kPipeline = Symbol('spry.pipeline');
type PipelinedSocket = Socket & { [kPipeline]?: Pipeline };

/**
 * Serves the request `res` answers now, or once its connection has fewer than `limit` requests
 * unanswered. A request alone on its connection (node:http assigned its response the socket at
 * once) is served at once, counted by nothing: this costs the usual request one comparison.
 */
export function servePipelined(socket: Socket, res: ServerResponse, limit: number, serve: () => void): void {
  const assigned = assignedResponse(socket);
  if (assigned === res) return serve();
  const served = socket as PipelinedSocket;
  const pipeline = (served[kPipeline] ??= new Pipeline(socket, limit));
  pipeline.admit(assigned, res, serve);
}

class Pipeline {
  private readonly socket: Socket;
  private readonly limit: number;
  /** Responses served and not yet finished (the socket's current one among them). */
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly done = (): void => this.finished();

  constructor(socket: Socket, limit: number) {
    this.socket = socket;
    this.limit = Math.max(1, limit);
  }

  admit(assigned: ServerResponse | null, res: ServerResponse, serve: () => void): void {
    // A pipeline beginning: the response node:http is writing was served before anything counted.
    if (this.inFlight === 0 && assigned !== null) this.start(assigned);
    if (this.waiting.length === 0 && this.inFlight < this.limit) {
      this.start(res);
      return serve();
    }
    this.waiting.push(() => {
      this.start(res);
      serve();
    });
    pauseHttpReads(this.socket);
  }

  private start(res: ServerResponse): void {
    this.inFlight++;
    res.once('close', this.done);
  }

  private finished(): void {
    this.inFlight--;
    const next = this.waiting.shift();
    if (next === undefined) return;
    next();
    if (this.waiting.length === 0) resumeHttpReads(this.socket);
  }
}
