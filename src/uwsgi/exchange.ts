// A request that arrived over the uwsgi protocol (from nginx's uwsgi_pass or a uWSGI router),
// as a ServerExchange. The router's variables are the request; the response goes back as plain
// HTTP/1.1, as a uWSGI worker writes it, and the connection closes at its end.

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { CONNECTION_HEADERS } from '../exchange/connection-headers.ts';
import type { BodySink, BufferSizes, ConnectionInfo, FlatHeaders, ProtocolMarker, RequestHead, ServerExchange } from '../exchange/exchange.ts';
import { checkFieldValue, type RequestHeadProblem } from '../exchange/request-validation.ts';

export class UwsgiExchange implements ServerExchange {
  readonly head: RequestHead;
  readonly buffers: BufferSizes;
  aborted = false;
  responded = false;
  onDrain: (() => void) | null = null;
  onAbort: ((reason: Error) => void) | null = null;
  private readonly socket: Socket;
  /** Body bytes still to come (CONTENT_LENGTH minus what arrived). */
  private remaining: number;
  private sink: BodySink | null = null;
  /** Body bytes that came before the app asked for them (a forwarder waits for its backend). */
  private early: Buffer[] = [];
  private earlyBytes = 0;
  private ended = false;

  constructor(socket: Socket, head: RequestHead, vars: Record<string, string>, firstBody: Buffer, buffers: BufferSizes) {
    this.buffers = buffers;
    this.socket = socket;
    this.head = head;
    this.remaining = Number(vars.CONTENT_LENGTH ?? 0) || 0;
    if (firstBody.length > 0) this.receive(firstBody);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('drain', () => this.onDrain?.());
    socket.on('close', () => {
      if (this.ended || this.aborted) return;
      this.aborted = true;
      this.onAbort?.(new Error('the router closed the connection'));
    });
    socket.on('error', () => {});
  }

  private receive(chunk: Buffer): void {
    if (this.remaining <= 0) return; // nothing more is expected: ignore
    const part = chunk.length > this.remaining ? chunk.subarray(0, this.remaining) : chunk;
    this.remaining -= part.length;
    if (this.sink === null) {
      this.early.push(part);
      this.earlyBytes += part.length;
      // Held for no one yet: past read-buffer, stop reading (TCP backpressure reaches the client).
      if (this.earlyBytes >= this.buffers.readBytes) this.socket.pause();
    } else if (this.sink.data(part) === false) this.socket.pause();
    if (this.remaining === 0 && this.sink !== null) this.sink.end();
  }

  setBodySink(sink: BodySink): void {
    this.sink = sink;
    const early = this.early;
    const paused = this.earlyBytes >= this.buffers.readBytes;
    this.early = [];
    this.earlyBytes = 0;
    let full = false;
    for (const chunk of early) if (sink.data(chunk) === false) full = true;
    if (full) this.socket.pause();
    else if (paused) this.socket.resume();
    if (this.remaining === 0) sink.end();
  }

  resumeBody(): void {
    this.socket.resume();
  }

  respond(status: number, headers: FlatHeaders, endStream: boolean): void {
    this.responded = true;
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n`;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i].toLowerCase();
      if (CONNECTION_HEADERS.has(name)) continue;
      head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    }
    this.socket.write(`${head}\r\n`, 'latin1');
    if (endStream) this.end();
  }

  write(chunk: Buffer, callback?: () => void): boolean {
    if (this.aborted) {
      callback?.();
      return false;
    }
    return this.socket.write(chunk, callback);
  }

  end(chunk?: Buffer, callback?: () => void): void {
    if (this.ended) return;
    this.ended = true;
    // One request per connection: the end of the response is the end of the connection.
    if (chunk !== undefined) this.socket.end(chunk, callback);
    else this.socket.end(callback);
  }

  abort(): void {
    this.aborted = true;
    this.socket.destroy();
  }
}

/**
 * The router's copies of the body's headers (nginx sends HTTP_CONTENT_LENGTH and
 * HTTP_CONTENT_TYPE beside CONTENT_LENGTH and CONTENT_TYPE): the CGI variables are the ones
 * spry reads the body by, so only they become headers. A copy as well would reach an HTTP
 * backend as a second Content-Length (llhttp answers 400), and a copy alone as a length of a body
 * spry never reads or sends (the backend would take the next request on the connection for it).
 */
const BODY_HEADER_COPIES = new Set(['HTTP_CONTENT_LENGTH', 'HTTP_CONTENT_TYPE']);

export function requestHeadFromVars(vars: Record<string, string>, connection: ConnectionInfo): RequestHead {
  const headers: FlatHeaders = [];
  for (const key in vars) {
    if (key.startsWith('HTTP_') && !BODY_HEADER_COPIES.has(key)) headers.push(key.slice(5).toLowerCase().replaceAll('_', '-'), vars[key]);
  }
  if (vars.CONTENT_TYPE) headers.push('content-type', vars.CONTENT_TYPE);
  if (vars.CONTENT_LENGTH) headers.push('content-length', vars.CONTENT_LENGTH);
  const query = vars.QUERY_STRING ?? '';
  const target = vars.REQUEST_URI || `${vars.SCRIPT_NAME ?? ''}${vars.PATH_INFO ?? '/'}${query === '' ? '' : `?${query}`}`;
  const secure = vars.HTTPS === 'on' || vars.HTTPS === '1' || vars.UWSGI_SCHEME === 'https';
  const protocol: ProtocolMarker =
    vars.SPDY === 'on'
      ? { kind: 'spdy', version: (vars['SPDY.version'] as '2' | '3' | '3.1') ?? '3', streamId: Number(vars['SPDY.stream'] ?? 0) }
      : vars.HTTP2 === 'on'
        ? { kind: 'h2', streamId: Number(vars['HTTP2.stream'] ?? 0) }
        : { kind: vars.SERVER_PROTOCOL === 'HTTP/1.0' ? 'http/1.0' : 'http/1.1' };
  return {
    method: vars.REQUEST_METHOD || 'GET',
    target,
    authority: vars.HTTP_HOST ?? vars.SERVER_NAME ?? '',
    scheme: secure ? 'https' : 'http',
    httpVersion: /^HTTP\/(\d\.\d)$/.exec(vars.SERVER_PROTOCOL ?? '')?.[1] ?? '1.1',
    headers,
    // The client behind the router, not the router.
    connection: {
      remoteAddress: vars.REMOTE_ADDR ?? connection.remoteAddress,
      remotePort: Number(vars.REMOTE_PORT ?? connection.remotePort),
      localAddress: connection.localAddress,
      localPort: Number(vars.SERVER_PORT ?? connection.localPort),
      secure,
    },
    protocol,
    hasBody: Number(vars.CONTENT_LENGTH ?? 0) > 0,
    upstreamVars: vars,
  };
}

/**
 * The variables spry itself reads, besides the head checkRequestHead checks: CONTENT_LENGTH
 * (digits, or empty: Number() would read `0x10` or `1e3` as a length the header would not say)
 * and REMOTE_ADDR, which goes into X-Forwarded-For and Forwarded lines to an HTTP backend.
 */
export function uwsgiVarsProblem(vars: Record<string, string>): RequestHeadProblem | undefined {
  const length = vars.CONTENT_LENGTH;
  if (length !== undefined && !/^\d*$/.test(length)) return { code: 'SPRY_ERR_UWSGI_BAD_VAR', message: `CONTENT_LENGTH ${JSON.stringify(length)} is not a length` };
  const remote = vars.REMOTE_ADDR;
  if (remote !== undefined && checkFieldValue('REMOTE_ADDR', remote) !== undefined) return { code: 'SPRY_ERR_UWSGI_BAD_VAR', message: 'REMOTE_ADDR holds CR, LF or NUL' };
  return undefined;
}
