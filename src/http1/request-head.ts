// node:http's parsed request → the protocol-neutral RequestHead.

import type { IncomingMessage } from 'node:http';
import type { ConnectionInfo, FlatHeaders, RequestHead } from '../exchange/exchange.ts';
import { checkAuthority, checkTarget, type RequestHeadProblem } from '../exchange/request-validation.ts';

const HTTP_1_1: RequestHead['protocol'] = { kind: 'http/1.1' };
const HTTP_1_0: RequestHead['protocol'] = { kind: 'http/1.0' };

export function requestHeadFromNode(req: IncomingMessage, connection: ConnectionInfo): RequestHead {
  return new NodeRequestHead(req, connection);
}

/**
 * What node:http's parser let through but spry does not serve (docs/request-heads.md §2).
 * llhttp has refused unknown methods, bad bytes in the target and in names and values, and an
 * HTTP/1.1 request without Host; it accepts absolute-form, `*` with any method, `#`, and any
 * Host value, once or more (RFC 9112 §3.2: more than one is a 400).
 */
export function nodeRequestProblem(req: IncomingMessage): RequestHeadProblem | undefined {
  const target = checkTarget(req.method ?? '', req.url ?? '');
  if (target !== undefined) return target;
  const raw = req.rawHeaders;
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length !== 4 || name.toLowerCase() !== 'host') continue;
    if (host !== undefined) return { code: 'SPRY_ERR_BAD_AUTHORITY', message: 'more than one Host header' };
    host = raw[i + 1];
  }
  return host === undefined ? undefined : checkAuthority(host);
}

/**
 * A request node:http parsed, as a RequestHead. The header-derived fields are worked out on first
 * use: a Node listener app that never reads `req.environ` never pays for them (nor for node:http
 * building `req.headers`), as it would not on a bare node:http server.
 */
class NodeRequestHead implements RequestHead {
  readonly method: string;
  readonly target: string;
  readonly scheme: string;
  readonly httpVersion: string;
  readonly connection: ConnectionInfo;
  readonly protocol: RequestHead['protocol'];
  private readonly req: IncomingMessage;
  private flat: FlatHeaders | undefined;

  constructor(req: IncomingMessage, connection: ConnectionInfo) {
    this.req = req;
    this.method = req.method ?? 'GET';
    this.target = req.url ?? '/';
    this.scheme = connection.secure ? 'https' : 'http';
    this.httpVersion = req.httpVersion;
    this.connection = connection;
    this.protocol = req.httpVersion === '1.0' ? HTTP_1_0 : HTTP_1_1;
  }

  get headers(): FlatHeaders {
    if (this.flat === undefined) {
      const raw = this.req.rawHeaders;
      const headers: FlatHeaders = new Array(raw.length);
      for (let i = 0; i < raw.length; i += 2) {
        headers[i] = raw[i].toLowerCase();
        headers[i + 1] = raw[i + 1];
      }
      this.flat = headers;
    }
    return this.flat;
  }

  get authority(): string {
    return this.req.headers.host ?? '';
  }

  /** RFC 9112 §6.3: without Content-Length or Transfer-Encoding a request has no body. */
  get hasBody(): boolean {
    const headers = this.req.headers;
    return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
  }
}

/** The longest request line read back from bytes node:http's parser refused. */
const MAX_REFUSED_LINE = 8192;

/**
 * What can be said of a request node:http's parser refused (its 'clientError'), for the access
 * line of the 400: the method and target of its request line as far as they go ('-' where there
 * is none), no headers.
 */
export function refusedRequestHead(rawPacket: Buffer | undefined, connection: ConnectionInfo): RequestHead {
  let line = '';
  if (rawPacket !== undefined) {
    const newline = rawPacket.indexOf(0x0a);
    line = rawPacket.toString('latin1', 0, Math.min(newline < 0 ? rawPacket.length : newline, MAX_REFUSED_LINE)).trimEnd();
  }
  const [method, target] = line.split(' ', 2);
  return {
    method: method === undefined || method === '' ? '-' : method,
    target: target === undefined || target === '' ? '-' : target,
    authority: '',
    scheme: connection.secure ? 'https' : 'http',
    httpVersion: '1.1',
    headers: [],
    connection,
    protocol: HTTP_1_1,
    hasBody: false,
  };
}
