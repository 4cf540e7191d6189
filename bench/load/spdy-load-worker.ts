// One thread of spdy-load: it opens its share of the connections with spry's own SPDY client and
// keeps `streams` requests in flight on each, recording the latency of every request that
// completes inside the measurement window. The main thread (spdy-load.ts) tells it when to
// start, when the warm-up ends and when to stop, and adds up what every thread reports.

import { createSecureContext } from 'node:tls';
import { parentPort, workerData } from 'node:worker_threads';
import { SpdyClient, statusOf } from '../../src/spdy/client.ts';
import type { SpdyStream } from '../../src/spdy/stream.ts';
import type { SpdyAlpn } from '../../src/spdy/versions.ts';
import { LatencyHistogram, type HistogramSnapshot } from '../lib/histogram.ts';

export interface WorkerPlan {
  readonly host: string;
  readonly port: number;
  readonly protocol: SpdyAlpn;
  readonly connections: number;
  readonly streams: number;
  readonly path: string;
  readonly method: string;
  readonly bodyBytes: number;
  /** Requests-mode: how many requests this thread sends in all; undefined in duration mode. */
  readonly requests: number | undefined;
}

/** Main → worker. */
export type WorkerCommand = { readonly type: 'start' } | { readonly type: 'measure' } | { readonly type: 'stop' };

/** Worker → main. */
export type WorkerReport =
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'result'; readonly result: WorkerResult };

export interface WorkerResult {
  readonly succeeded: number;
  /** Streams reset or lost with their connection. */
  readonly errored: number;
  readonly statuses: Record<string, number>;
  /** Response body bytes received plus request body bytes sent, in the window. */
  readonly bodyBytes: number;
  readonly histogram: HistogramSnapshot;
  /** Connections still open when the thread stopped. */
  readonly openConnections: number;
}

/** How long in-flight requests get to finish after stop, before connections are dropped. */
const DRAIN_TIMEOUT_MS = 5_000;

class LoadConnection {
  readonly client: SpdyClient;
  inFlight = 0;

  constructor(client: SpdyClient) {
    this.client = client;
  }
}

class LoadThread {
  private readonly plan: WorkerPlan;
  private readonly body: Buffer | undefined;
  private readonly headers: string[];
  private connections: LoadConnection[] = [];
  private running = false;
  private measuring = false;
  /** Requests-mode: requests not yet started. */
  private unstarted: number;
  private histogram = new LatencyHistogram();
  private succeeded = 0;
  private errored = 0;
  private bodyBytes = 0;
  private statuses: Record<string, number> = {};
  private onIdle: (() => void) | null = null;

  constructor(plan: WorkerPlan) {
    this.plan = plan;
    this.unstarted = plan.requests ?? Infinity;
    // One body for every request: stream.end() queues a reference, never a copy.
    this.body = plan.bodyBytes > 0 ? Buffer.alloc(plan.bodyBytes, 0x62) : undefined;
    this.headers = plan.bodyBytes > 0 ? ['content-length', String(plan.bodyBytes), 'content-type', 'application/octet-stream'] : [];
  }

  async connect(): Promise<void> {
    const { host, port, protocol } = this.plan;
    const secureContext = createSecureContext();
    const clients = await Promise.all(Array.from({ length: this.plan.connections }, () => SpdyClient.connect({ host, port, protocol, tls: { secureContext } })));
    this.connections = clients.map((client) => new LoadConnection(client));
  }

  start(): void {
    this.running = true;
    this.measuring = this.plan.requests !== undefined; // requests-mode has no warm-up
    for (const connection of this.connections) {
      for (let i = 0; i < this.plan.streams && this.unstarted > 0; i++) this.issue(connection);
    }
    this.checkFinished();
  }

  measure(): void {
    this.histogram = new LatencyHistogram();
    this.succeeded = 0;
    this.errored = 0;
    this.bodyBytes = 0;
    this.statuses = {};
    this.measuring = true;
  }

  /** Stops counting and sending; resolves with the window's figures once in-flight work drained. */
  async stop(): Promise<WorkerResult> {
    this.running = false;
    this.measuring = false;
    const result: WorkerResult = {
      succeeded: this.succeeded,
      errored: this.errored,
      statuses: this.statuses,
      bodyBytes: this.bodyBytes,
      histogram: this.histogram.snapshot(),
      openConnections: this.connections.filter((connection) => !connection.client.session.destroyed).length,
    };
    await this.drained();
    for (const connection of this.connections) connection.client.session.destroy();
    return result;
  }

  private drained(): Promise<void> {
    if (this.totalInFlight() === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, DRAIN_TIMEOUT_MS);
      this.onIdle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private totalInFlight(): number {
    let total = 0;
    for (const connection of this.connections) total += connection.inFlight;
    return total;
  }

  private issue(connection: LoadConnection): void {
    const session = connection.client.session;
    if (session.destroyed || session.goawayReceived) return;
    let stream: SpdyStream;
    try {
      stream = connection.client.open(this.plan.path, { method: this.plan.method, headers: this.headers, endStream: this.body === undefined });
    } catch {
      return; // the session is closing: this connection is done
    }
    this.unstarted--;
    connection.inFlight++;
    const started = performance.now();
    let status = 0;
    let received = 0;
    const finish = (ok: boolean): void => {
      connection.inFlight--;
      if (this.measuring) {
        if (ok) {
          this.succeeded++;
          this.statuses[status] = (this.statuses[status] ?? 0) + 1;
          this.bodyBytes += received + this.plan.bodyBytes;
          this.histogram.record((performance.now() - started) * 1000);
        } else {
          this.errored++;
        }
      }
      if (this.running && this.unstarted > 0) this.issue(connection);
      else this.checkFinished();
    };
    stream.onResponse = (headers) => {
      status = statusOf(session, headers);
    };
    stream.onAbort = () => finish(false);
    stream.setBodySink({
      data(chunk) {
        received += chunk.length;
        return true;
      },
      end: () => finish(status !== 0),
    });
    if (this.body !== undefined) stream.end(this.body);
  }

  /** Requests-mode: report once every request has finished; duration mode: wake a drain. */
  private checkFinished(): void {
    if (this.totalInFlight() !== 0) return;
    if (this.onIdle !== null) {
      const resolve = this.onIdle;
      this.onIdle = null;
      resolve();
      return;
    }
    if (this.running && this.plan.requests !== undefined && (this.unstarted <= 0 || this.allConnectionsGone())) {
      void this.stop().then((result) => post({ type: 'result', result }));
    }
  }

  private allConnectionsGone(): boolean {
    return this.connections.every((connection) => connection.client.session.destroyed || connection.client.session.goawayReceived);
  }
}

function post(report: WorkerReport): void {
  parentPort!.postMessage(report);
}

const thread = new LoadThread(workerData as WorkerPlan);
try {
  await thread.connect();
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
}
parentPort!.on('message', (command: WorkerCommand) => {
  if (command.type === 'start') thread.start();
  else if (command.type === 'measure') thread.measure();
  else void thread.stop().then((result) => post({ type: 'result', result }));
});
