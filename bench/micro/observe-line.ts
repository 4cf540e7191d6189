// Micro benchmarks of what observing costs a request, in-process: a SPDY/3.1 GET's exchange
// wrapped in the real ObservedExchange, its record handed to the real Observer (the stats) and,
// with the access log on, to a real LogWriter appending to a file in the temporary directory
// (the default line or a JSON line). One call answers a batch, then yields to the event loop so
// the writer's thread-pool writes and its flush timer run as they do in a server.

import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlatHeaders, RequestHead } from '../../src/exchange/exchange.ts';
import { compileFormat } from '../../src/observe/log-format.ts';
import { LogWriter } from '../../src/observe/log-writer.ts';
import { ObservedExchange } from '../../src/observe/observed-exchange.ts';
import { Observer } from '../../src/observe/observer.ts';
import { Stats } from '../../src/observe/stats.ts';
import { NullExchange } from './app-adapters.ts';
import type { AsyncMicroCase } from './harness.ts';

const BATCH = 1000;
const BODY = Buffer.from('Hello, world!\n');
const RESPONSE_HEADERS: FlatHeaders = ['content-type', 'text/plain', 'content-length', String(BODY.length)];

/** What spdy-load's GET / looks like once the SPDY front end has parsed it. */
const HEAD: RequestHead = {
  method: 'GET',
  target: '/',
  authority: '127.0.0.1:8443',
  scheme: 'https',
  httpVersion: '1.1',
  headers: ['user-agent', 'spry-spdy-load', 'accept', '*/*'],
  connection: { remoteAddress: '127.0.0.1', remotePort: 50_000, localAddress: '127.0.0.1', localPort: 8443, secure: true },
  protocol: { kind: 'spdy', version: '3.1', streamId: 1 },
  hasBody: false,
};

const ignore = (): void => {};

function batchOf(observer: Observer): () => Promise<number> {
  return async () => {
    for (let i = 0; i < BATCH; i++) {
      const exchange = new ObservedExchange(new NullExchange(ignore, HEAD), observer);
      exchange.respond(200, RESPONSE_HEADERS, false);
      exchange.end(BODY);
    }
    await new Promise((resolve) => setImmediate(resolve));
    return BATCH;
  };
}

/** The cases, and what removes their log files (call it after running them). */
export function observeLineCases(): { cases: AsyncMicroCase[]; cleanUp(): void } {
  const context = { pid: process.pid, wid: 1, xForwardedFor: false };
  const files: string[] = [];
  const writers: LogWriter[] = [];
  const logged = (format: string | undefined): Observer => {
    const file = join(tmpdir(), `spry-micro-access-${process.pid}-${files.length}.log`);
    files.push(file);
    const writer = new LogWriter(file, compileFormat(format, context));
    writers.push(writer);
    return new Observer(new Stats(1), writer);
  };
  return {
    cases: [
      { name: 'SPDY/3.1 GET observed, stats only (log off)', fn: batchOf(new Observer(new Stats(1), undefined)), opsPerCall: BATCH },
      { name: 'SPDY/3.1 GET observed, default access line to a file', fn: batchOf(logged(undefined)), opsPerCall: BATCH },
      { name: 'SPDY/3.1 GET observed, JSON access line to a file', fn: batchOf(logged('json')), opsPerCall: BATCH },
    ],
    cleanUp() {
      for (const writer of writers) void writer.close();
      for (const file of files) rmSync(file, { force: true });
    },
  };
}
