// node:http's request and response as a ServerExchange: the HTTP/1.1 front end uses it for apps that
// are not Node listeners (fetch handlers), static files use it for requests node:http parsed.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BodySink, BufferSizes, FlatHeaders, RequestHead, ServerExchange } from './exchange.ts';

export class NodeHttpExchange implements ServerExchange {
  readonly head: RequestHead;
  readonly buffers: BufferSizes;
  aborted = false;
  responded = false;
  onDrain: (() => void) | null = null;
  onAbort: ((reason: Error) => void) | null = null;
  private readonly req: IncomingMessage;
  private readonly res: ServerResponse;

  constructor(req: IncomingMessage, res: ServerResponse, head: RequestHead, buffers: BufferSizes) {
    this.buffers = buffers;
    this.req = req;
    this.res = res;
    this.head = head;
    (res as ExchangeCarrier)[kExchange] = this;
    res.on('drain', onResponseDrain);
    res.on('close', onResponseClose);
  }

  /** The response closed: an abort unless it had finished. */
  closed(): void {
    if (!this.res.writableFinished && !this.aborted) {
      this.aborted = true;
      this.onAbort?.(new Error('the connection closed before the response finished'));
    }
  }

  setBodySink(sink: BodySink): void {
    const req = this.req;
    req.on('data', (chunk: Buffer) => {
      if (sink.data(chunk) === false) req.pause();
    });
    req.on('end', () => sink.end());
  }

  resumeBody(): void {
    this.req.resume();
  }

  respond(status: number, headers: FlatHeaders, endStream: boolean): void {
    this.responded = true;
    const res = this.res;
    res.statusCode = status;
    for (let i = 0; i < headers.length; i += 2) res.appendHeader(headers[i], headers[i + 1]);
    if (endStream) res.end();
  }

  write(chunk: Buffer, callback?: () => void): boolean {
    return this.res.write(chunk, callback);
  }

  end(chunk?: Buffer, callback?: () => void): void {
    if (chunk !== undefined) this.res.end(chunk, callback);
    else this.res.end(callback);
  }

  abort(): void {
    this.aborted = true;
    this.res.destroy();
  }
}

const kExchange = Symbol('spry.exchange');
type ExchangeCarrier = ServerResponse & { [kExchange]?: NodeHttpExchange };

// Shared by every NodeHttpExchange (no closures per request).
function onResponseDrain(this: ExchangeCarrier): void {
  this[kExchange]?.onDrain?.();
}

function onResponseClose(this: ExchangeCarrier): void {
  this[kExchange]?.closed();
}
