// The conformance suite's app, twice: as a Node `(req, res)` listener and as a fetch handler
// (an object with `fetch(request, env)`, as Hono exports), answering the same routes with the
// same bytes so one case list checks both adapters on every protocol.
//
//   GET|HEAD /hello          "hello, world\n" with an explicit content-length
//   POST     /sha256         reads the body as it streams; {"bytes", "sha256"}
//   POST     /ignore-body    answers "ignored\n" at once and never reads the body
//   GET      /large?bytes=N  N deterministic bytes (largeBody), streamed with backpressure
//   GET      /id/N           "N" (for the concurrency case)
//   GET      /headers        what the app saw of x-multi and cookie; answers with repeated
//                            set-cookie and x-multi-out fields
//   GET      /status/CODE    that status; "status CODE\n" where a body is allowed
//   GET      /throw          throws (the server must answer 500)
//   GET      /endless?token=T  streams until the client goes away; the AbortLog learns how it ended
//   GET      /environ        the uWSGI-style environment as JSON

import { createHash } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { xorshiftBytes } from '../helpers/xorshift-bytes.ts';

/** How a request the client reset mid-response ended, as the app saw it. */
export type EndReport =
  /** Node: res 'close' before 'finish'. Fetch: the Request's signal aborted. */
  | 'aborted'
  /** Node: res 'close' after 'finish' — the reset went unnoticed. */
  | 'finished'
  /** Fetch: the response body was cancelled but request.signal never aborted. */
  | 'cancelled without abort';

/** Where /endless reports how each request ended, keyed by its token. */
export class AbortLog {
  private readonly reports = new Map<string, EndReport>();
  private readonly waiters = new Map<string, (report: EndReport) => void>();

  record(token: string, report: EndReport): void {
    if (this.reports.has(token)) return; // the first word counts
    this.reports.set(token, report);
    this.waiters.get(token)?.(report);
    this.waiters.delete(token);
  }

  /** Resolves with how /endless?token=`token` ended. */
  ended(token: string): Promise<EndReport> {
    const report = this.reports.get(token);
    if (report !== undefined) return Promise.resolve(report);
    return new Promise((resolve) => this.waiters.set(token, resolve));
  }
}

export const HELLO = 'hello, world\n';
export const STATUS_CODES_UNDER_TEST = [200, 201, 204, 304, 404, 418] as const;
/** Statuses whose responses never carry a body (RFC 9110 §15.3.5, §15.4.5). */
export const BODILESS_STATUSES = new Set([204, 304]);
/** Set-cookie values hold commas (Expires), so a client joining them with ', ' would be caught. */
export const SET_COOKIES = ['session=abc; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT; HttpOnly', 'theme=dark; Path=/'];
/** /endless stops on its own after this much, so a reset that is never noticed cannot run forever. */
const ENDLESS_LIMIT_BYTES = 256 << 20;

// ── the deterministic large body ─────────────────────────────────────────────

const PATTERN_BYTES = 64 << 10;
/** xorshift32 bytes, one chunk plus 256 so each chunk can start at its own offset. */
const PATTERN = xorshiftBytes(PATTERN_BYTES + 256, 0x2545_f491);

/** `total` deterministic bytes in chunks of at most 64 KiB, no two neighbours alike. Views, not copies. */
export function* largeBody(total: number): Generator<Buffer> {
  for (let sent = 0, k = 0; sent < total; k++) {
    const length = Math.min(PATTERN_BYTES, total - sent);
    const start = (k * 131) % 256;
    sent += length;
    yield PATTERN.subarray(start, start + length);
  }
}

// ── the Node (req, res) listener ─────────────────────────────────────────────

type SpryRequest = IncomingMessage & { environ: Record<string, string> };

export function conformanceNodeApp(log: AbortLog): RequestListener {
  return ((req: SpryRequest, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://conformance.invalid');
    const path = url.pathname;
    if (path === '/hello') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(HELLO)), 'x-conformance': 'node' });
      res.end(HELLO);
    } else if (path === '/sha256') {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
      });
      req.on('end', () => sendJson(res, { bytes, sha256: hash.digest('hex') }));
    } else if (path === '/ignore-body') {
      res.end('ignored\n');
    } else if (path === '/large') {
      const total = Number(url.searchParams.get('bytes'));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
      const chunks = largeBody(total);
      const pump = () => {
        for (let next = chunks.next(); !next.done; next = chunks.next()) {
          if (!res.write(next.value)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    } else if (path.startsWith('/id/')) {
      res.setHeader('content-type', 'text/plain');
      res.end(path.slice(4));
    } else if (path === '/headers') {
      res.setHeader('set-cookie', SET_COOKIES);
      res.setHeader('x-multi-out', ['p', 'q']);
      sendJson(res, {
        multi: req.headers['x-multi'] ?? null,
        cookie: req.headers.cookie ?? null,
        rawMulti: rawValues(req.rawHeaders, 'x-multi'),
        environMulti: req.environ.HTTP_X_MULTI ?? null,
        environCookie: req.environ.HTTP_COOKIE ?? null,
      });
    } else if (path.startsWith('/status/')) {
      const status = Number(path.slice(8));
      res.statusCode = status;
      res.setHeader('content-type', 'text/plain');
      // Written for every status: node:http must drop it for 204 and 304 itself.
      res.end(`status ${status}\n`);
    } else if (path === '/throw') {
      throw new Error('conformance: deliberate failure');
    } else if (path === '/endless') {
      const token = url.searchParams.get('token') ?? '';
      res.on('close', () => log.record(token, res.writableFinished ? 'finished' : 'aborted'));
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let sent = 0;
      const pump = () => {
        while (!res.destroyed && sent < ENDLESS_LIMIT_BYTES) {
          sent += PATTERN_BYTES;
          if (!res.write(PATTERN.subarray(0, PATTERN_BYTES))) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      pump();
    } else if (path === '/environ') {
      sendJson(res, req.environ);
    } else {
      res.statusCode = 404;
      res.end('not found\n');
    }
  }) as RequestListener;
}

function sendJson(res: ServerResponse, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

function rawValues(raw: string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === name) values.push(raw[i + 1]);
  return values;
}

// ── the fetch handler ────────────────────────────────────────────────────────

export interface FetchApp {
  fetch(request: Request, env: Record<string, string>): Response | Promise<Response>;
}

export function conformanceFetchApp(log: AbortLog): FetchApp {
  return {
    async fetch(request, env) {
      const url = new URL(request.url);
      const path = url.pathname;
      if (path === '/hello') {
        return new Response(HELLO, { headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(HELLO)), 'x-conformance': 'fetch' } });
      }
      if (path === '/sha256') {
        const hash = createHash('sha256');
        let bytes = 0;
        for await (const chunk of request.body ?? []) {
          bytes += chunk.byteLength;
          hash.update(chunk);
        }
        return Response.json({ bytes, sha256: hash.digest('hex') });
      }
      if (path === '/ignore-body') return new Response('ignored\n');
      if (path === '/large') {
        const total = Number(url.searchParams.get('bytes'));
        const chunks = largeBody(total);
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            const next = chunks.next();
            if (next.done) controller.close();
            else controller.enqueue(next.value);
          },
        });
        return new Response(body, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(total) } });
      }
      if (path.startsWith('/id/')) return new Response(path.slice(4), { headers: { 'content-type': 'text/plain' } });
      if (path === '/headers') {
        const headers = new Headers({ 'content-type': 'application/json' });
        for (const cookie of SET_COOKIES) headers.append('set-cookie', cookie);
        headers.append('x-multi-out', 'p');
        headers.append('x-multi-out', 'q');
        const seen = {
          multi: request.headers.get('x-multi'),
          cookie: request.headers.get('cookie'),
          // Headers keeps no raw list: repeated fields are already one value here.
          rawMulti: request.headers.get('x-multi')?.split(', ') ?? [],
          environMulti: env.HTTP_X_MULTI ?? null,
          environCookie: env.HTTP_COOKIE ?? null,
        };
        return new Response(JSON.stringify(seen), { headers });
      }
      if (path.startsWith('/status/')) {
        const status = Number(path.slice(8));
        // The Response constructor itself refuses a body with 204 or 304.
        return new Response(BODILESS_STATUSES.has(status) ? null : `status ${status}\n`, { status, headers: { 'content-type': 'text/plain' } });
      }
      if (path === '/throw') throw new Error('conformance: deliberate failure');
      if (path === '/endless') {
        const token = url.searchParams.get('token') ?? '';
        request.signal.addEventListener('abort', () => log.record(token, 'aborted'), { once: true });
        let sent = 0;
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent >= ENDLESS_LIMIT_BYTES) {
              controller.close();
              log.record(token, 'finished');
              return;
            }
            sent += PATTERN_BYTES;
            controller.enqueue(PATTERN.subarray(0, PATTERN_BYTES));
          },
          cancel() {
            // Give a signal that aborts in the same turn its chance to be first.
            queueMicrotask(() => log.record(token, request.signal.aborted ? 'aborted' : 'cancelled without abort'));
          },
        });
        return new Response(body, { headers: { 'content-type': 'application/octet-stream' } });
      }
      if (path === '/environ') return Response.json(env);
      return new Response('not found\n', { status: 404 });
    },
  };
}
