// node-spdy's push API for Node listener apps: `res.push(path, { request, response }[, cb])`
// returns a writable stream the app writes the pushed body to. Where there is nothing to push
// on (HTTP/1.1, push off, the client refused or reset it, its stream limit), the stream
// discards what it is given: pushing is an optimisation, never a reason for the page to fail.

import type { OutgoingHttpHeaders } from 'node:http';
import { Writable } from 'node:stream';
import type { FlatHeaders, PushSink, ServerExchange } from '../exchange/exchange.ts';

/** node-spdy's second argument to push(). */
export interface PushOptions {
  /** Request headers the client would have sent. */
  request?: OutgoingHttpHeaders;
  /** The pushed response's headers. */
  response?: OutgoingHttpHeaders;
  /** The pushed response's status (default 200). */
  status?: number | string;
  /** Pushes are GETs; node-spdy's field is accepted for compatibility. */
  method?: string;
}

export type PushCallback = (error: Error | null, stream: Writable) => void;

/** Opens a push on `exchange` (undefined: a stream with nothing behind it). */
export function pushOn(exchange: ServerExchange | undefined, path: unknown, options: PushOptions | undefined, callback: PushCallback | undefined): Writable {
  if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError(`res.push: the path must be a string starting with / (got ${JSON.stringify(path)})`);
  const head = exchange?.head;
  const sink =
    exchange?.push === undefined || head === undefined
      ? undefined
      : exchange.push({
          path,
          authority: head.authority,
          scheme: head.scheme,
          requestHeaders: flat(options?.request),
          status: Number(options?.status ?? 200),
          headers: flat(options?.response),
        });
  const stream = sink === undefined ? discarding() : new PushWritable(sink);
  if (callback !== undefined) process.nextTick(callback, null, stream);
  return stream;
}

class PushWritable extends Writable {
  private readonly sink: PushSink;
  private waiting: (() => void) | null = null;
  private finished = false;

  constructor(sink: PushSink) {
    super();
    this.sink = sink;
    sink.onDrain = () => {
      const resume = this.waiting;
      this.waiting = null;
      resume?.();
    };
    // The client reset the push (it had the resource already, say): nothing to write to. No
    // 'error' for an app that never listens for one; 'close' tells those that care.
    sink.onAbort = () => {
      this.finished = true;
      this.destroy();
    };
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.sink.write(chunk)) callback();
    else this.waiting = () => callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.finished = true;
    this.sink.end(undefined, () => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.finished) this.sink.abort();
    callback(error);
  }
}

function discarding(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}

function flat(headers: OutgoingHttpHeaders | undefined): FlatHeaders {
  const out: FlatHeaders = [];
  if (headers === undefined) return out;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) out.push(name.toLowerCase(), String(one));
  }
  return out;
}
