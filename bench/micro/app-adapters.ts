// Micro benchmarks of the app adapters, the per-request cost every multiplexed request pays
// above its protocol: a GET through the Node-listener adapter (genuine IncomingMessage and
// ServerResponse over a StreamSocket) and through the fetch-handler adapter (Request/Response),
// each answered by the benchmark's hello handler, against an exchange that keeps nothing. One
// call serves a batch and waits until every response has ended.

import { appFromExport } from '../../src/apps/load-module.ts';
import type { BodySink, FlatHeaders, RequestHead, ServerExchange } from '../../src/exchange/exchange.ts';
import { hello } from '../apps/hello.ts';
import type { AsyncMicroCase } from './harness.ts';

const BATCH = 100;
const BODY = new TextEncoder().encode('Hello, world!\n');

/** What h2load's GET / looks like once a front end has parsed it. */
const HEAD: RequestHead = {
  method: 'GET',
  target: '/',
  authority: '127.0.0.1:8443',
  scheme: 'https',
  httpVersion: '2.0',
  headers: ['user-agent', 'h2load nghttp2/1.52.0', 'accept', '*/*', 'accept-encoding', 'gzip, deflate'],
  connection: { remoteAddress: '127.0.0.1', remotePort: 50_000, localAddress: '127.0.0.1', localPort: 8443, secure: true },
  protocol: { kind: 'h2', streamId: 1 },
  hasBody: false,
};

const BUFFERS = { writeBytes: 64 << 10, readBytes: 64 << 10 };

/** A request whose body is empty and whose response goes nowhere; calls back as a socket would (later). */
export class NullExchange implements ServerExchange {
  readonly head: RequestHead;
  readonly buffers = BUFFERS;
  aborted = false;
  responded = false;
  onDrain: (() => void) | null = null;
  onAbort: ((reason: Error) => void) | null = null;
  private readonly done: () => void;

  constructor(done: () => void, head: RequestHead = HEAD) {
    this.done = done;
    this.head = head;
  }

  setBodySink(sink: BodySink): void {
    queueMicrotask(() => sink.end());
  }
  resumeBody(): void {}
  respond(_status: number, _headers: FlatHeaders, endStream: boolean): void {
    this.responded = true;
    if (endStream) this.done();
  }
  write(_chunk: Buffer, callback?: () => void): boolean {
    if (callback !== undefined) queueMicrotask(callback);
    return true;
  }
  end(_chunk?: Buffer, callback?: () => void): void {
    if (callback !== undefined) queueMicrotask(callback);
    this.done();
  }
  abort(): void {}
}

function batchOf(app: ReturnType<typeof appFromExport>): () => Promise<number> {
  return () =>
    new Promise<number>((resolve) => {
      let left = BATCH;
      const done = (): void => {
        if (--left === 0) setImmediate(() => resolve(BATCH)); // let the objects' own clean-up run too
      };
      for (let i = 0; i < BATCH; i++) app.serve(new NullExchange(done));
    });
}

export function appAdapterCases(): AsyncMicroCase[] {
  const fetchHello = (_request: Request): Response => new Response(BODY, { headers: { 'content-type': 'text/plain', 'content-length': String(BODY.length) } });
  return [
    { name: 'Node listener adapter: GET / → hello', fn: batchOf(appFromExport(hello, 'hello')), opsPerCall: BATCH },
    { name: 'fetch handler adapter: GET / → Response', fn: batchOf(appFromExport(fetchHello, 'fetchHello')), opsPerCall: BATCH },
  ];
}
