// Runs a fetch-style handler (`(request: Request, env) => Response | Promise<Response>`, or an
// object with such a `fetch` method, as Hono apps are) on any front end. The uWSGI-style
// environment is the second argument, where Hono puts its bindings (`c.env`).

import { lazyEnviron, type Environ } from '../exchange/environ.ts';
import type { FlatHeaders, RequestHead, ServerExchange } from '../exchange/exchange.ts';
import type { App } from './app.ts';

export type FetchHandler = (request: Request, env: Environ) => Response | Promise<Response>;

type ErrorReporter = (error: unknown, head: RequestHead) => void;


export function fetchHandlerApp(handler: FetchHandler, reportError: ErrorReporter): App {
  return {
    style: 'fetch',
    serve(exchange) {
      serveExchange(handler, exchange, reportError);
    },
  };
}

function serveExchange(handler: FetchHandler, exchange: ServerExchange, reportError: ErrorReporter): void {
  const head = exchange.head;
  const aborter = new AbortController();
  exchange.onAbort = (reason) => aborter.abort(reason);

  const requestBody = head.method === 'GET' || head.method === 'HEAD' ? undefined : bodyStream(exchange);
  let request: Request;
  try {
    request = new Request(`${head.scheme}://${head.authority || 'localhost'}${head.target}`, {
      method: head.method,
      headers: toHeaders(head.headers),
      body: requestBody?.stream ?? null,
      duplex: 'half',
      signal: aborter.signal,
    } as RequestInit);
  } catch (error) {
    // An unparseable target or header the client sent: its fault, not the app's.
    exchange.respond(400, ['content-type', 'text/plain; charset=utf-8'], false);
    exchange.end(Buffer.from(`Bad Request: ${(error as Error).message}\n`));
    requestBody?.discard();
    return;
  }
  if (head.method === 'GET' || head.method === 'HEAD') exchange.setBodySink({ data: () => true, end: () => {} });

  let response: Promise<Response>;
  try {
    response = Promise.resolve(handler(request, lazyEnviron(head)));
  } catch (error) {
    response = Promise.reject(error);
  }
  const answered = response.then(
    (res) => sendResponse(exchange, res, head.method === 'HEAD', aborter.signal),
    (error: unknown) => {
      if (exchange.aborted) return;
      reportError(error, head);
      if (!exchange.responded) {
        exchange.respond(500, ['content-type', 'text/plain; charset=utf-8'], false);
        exchange.end(Buffer.from('Internal Server Error\n'));
      } else {
        exchange.abort();
      }
    },
  );
  // Answered or failed: what the app left unread is dropped, so the client's upload can end.
  void answered.finally(() => requestBody?.discard());
}

function toHeaders(flat: FlatHeaders): Headers {
  const headers = new Headers();
  for (let i = 0; i < flat.length; i += 2) headers.append(flat[i], flat[i + 1]);
  return headers;
}

interface RequestBody {
  readonly stream: ReadableStream<Uint8Array>;
  /** Drops whatever is still to come and keeps the exchange reading, so the client's upload ends. */
  discard(): void;
}

/** The request body as a web stream that pulls from the exchange with backpressure. */
function bodyStream(exchange: ServerExchange): RequestBody {
  let discarding = false;
  let ended = false;
  let control: ReadableStreamDefaultController<Uint8Array> | undefined;
  const discard = () => {
    if (discarding) return;
    discarding = true;
    // A late reader must not take the cut-off body for the whole one.
    if (!ended) control?.error(new Error('the response was sent before the request body was read'));
    exchange.resumeBody();
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        control = controller;
        exchange.setBodySink({
          data(chunk) {
            if (discarding) return true;
            controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
            return (controller.desiredSize ?? 0) > 0;
          },
          end() {
            ended = true;
            if (!discarding) controller.close();
          },
        });
      },
      pull() {
        exchange.sendContinue?.(); // Expect: 100-continue is answered once the app reads
        exchange.resumeBody();
      },
      cancel: discard,
    },
    { highWaterMark: exchange.buffers.readBytes, size: (chunk) => chunk.byteLength },
  );
  return { stream, discard };
}

async function sendResponse(exchange: ServerExchange, response: Response, isHead: boolean, aborted: AbortSignal): Promise<void> {
  if (exchange.aborted) {
    await response.body?.cancel();
    return;
  }
  const headers: FlatHeaders = [];
  for (const [name, value] of response.headers) {
    if (name === 'set-cookie') continue;
    headers.push(name, value);
  }
  for (const cookie of response.headers.getSetCookie()) headers.push('set-cookie', cookie);
  const body = response.body;
  if (body === null || isHead || response.status === 204 || response.status === 304) {
    exchange.respond(response.status, headers, true);
    if (body !== null) await body.cancel();
    return;
  }
  exchange.respond(response.status, headers, false);
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (exchange.aborted) {
        await reader.cancel();
        return;
      }
      if (done) break;
      const chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      if (!exchange.write(chunk)) {
        await new Promise<void>((resolve) => {
          exchange.onDrain = resolve;
          aborted.addEventListener('abort', () => resolve(), { once: true });
        });
      }
    }
    exchange.end();
  } catch {
    // The body stream failed half way: the client must not take a truncated body for a whole one.
    exchange.abort();
  }
}
