// The private parts of Node.js that spry relies on, in one place. Each is looked up or checked
// once, when this module loads (require-internals.ts fails loudly, naming the Node version);
// hot paths then use the exported constants and types directly, with no indirection per request.
//
// What they are for:
//  - OutgoingMessage's head state and `_storeHeader`: the Node-listener adapter takes a
//    ServerResponse's head as headers instead of serialised HTTP/1.1 (apps/response-head.ts,
//    apps/node-listener.ts); `kOutHeaders` is setHeader()'s store, `kNeedDrain` what
//    `writableNeedDrain` reports.
//  - IncomingMessage's `_addHeaderLines` (headers built from rawHeaders on first access, as
//    node:http's parser does) and `_read` (the request body is pulled from the exchange).
//  - `socket._httpMessage`: the response node:http has assigned to a socket (http1/front-end.ts
//    tells busy connections from idle ones by it).
//  - Streams' `_writableState` / `_readableState.highWaterMark`: the buffer marks of sockets and
//    streams that node:net, node:tls and node:http2 made (setHighWaterMarks, below).
//  - Http2Session.prototype.destroy: node:http2 ends every session through it (http2/front-end.ts
//    disarms the idle timer there).
//  - `socket._paused` and `socket.parser`: how node:http stops reading a connection whose
//    pipelined responses back up, and starts again (pauseHttpReads / resumeHttpReads, for
//    http1/pipelining.ts, which stops it the same way while too many requests are unanswered).

import { IncomingMessage, OutgoingMessage, ServerResponse } from 'node:http';
import { performServerHandshake, type Http2Session } from 'node:http2';
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { requireInternals, type InternalChecks } from './require-internals.ts';

/** OutgoingMessage's private head state, read and set by the Node-listener adapter. */
export interface OutgoingPrivates {
  /** The serialised head once decided (headersSent reads it); null before. */
  _header: string | null;
  /** True once there is no head left for node:http to write before the body. */
  _headerSent: boolean;
  /** False for HEAD requests and bodiless statuses. */
  _hasBody: boolean;
  /** The length of a body given whole to end(), before the head is stored. */
  _contentLength: number | null;
  /** removeHeader('content-length') was called: node:http must not add one. */
  _removedContLen: boolean;
  sendDate: boolean;
  /** Called once with the status line and the headers when the head is decided. */
  _storeHeader(statusLine: string, headers: unknown): void;
}

/** IncomingMessage's private parts the adapter uses. */
export interface IncomingPrivates {
  _addHeaderLines(headers: string[], count: number): void;
  _read(size: number): void;
}

/** A stream's internal state objects, where write() and push() read their high-water marks. */
interface StreamStates {
  _writableState?: { highWaterMark: number };
  _readableState?: { highWaterMark: number };
}

/** What node:http keeps on a socket it serves: the response assigned to it, null between requests. */
interface HttpSocketPrivates {
  _httpMessage?: ServerResponse | null;
  /** node:http stopped reading it: its parser is paused after the read it is in, and only its drain handler resumes it. */
  _paused?: boolean;
  parser?: { pause(): void; resume(): void } | null;
}

/**
 * Stops node:http reading `socket` as it stops itself when pipelined responses back up
 * (_http_server.js parserOnIncoming): the socket pauses, and its parser once the current read
 * is parsed (so requests already in that read still arrive). node:http's drain handler may
 * start it again; the next request then sees the flag unset and the caller stops it again.
 */
export function pauseHttpReads(socket: Socket): void {
  const privates = socket as Socket & HttpSocketPrivates;
  if (privates._paused === true) return;
  privates._paused = true;
  socket.pause();
}

/** Starts node:http reading `socket` again, as its drain handler does (socketOnDrain). */
export function resumeHttpReads(socket: Socket): void {
  const privates = socket as Socket & HttpSocketPrivates;
  if (privates._paused !== true) return;
  privates._paused = false;
  privates.parser?.resume();
  socket.resume();
}

/**
 * The response node:http has assigned to a socket it serves (from the 'request' event until the
 * response finishes), or null: a socket without one is idle.
 */
export function assignedResponse(socket: Socket): ServerResponse | null {
  return (socket as Socket & HttpSocketPrivates)._httpMessage ?? null;
}

/**
 * Sets a stream's buffer high-water marks after it was made. Node only takes them at
 * construction, and the sockets spry serves are made by node:tls / node:net (a TLSSocket even
 * ignores its server's highWaterMark), its h2 streams by node:http2. The marks live on the
 * streams' internal state objects, where write() and push() read them each time; the public
 * getters read the same fields (checked at load).
 */
export function setHighWaterMarks(stream: Duplex, marks: { writeBytes?: number; readBytes?: number }): void {
  const states = stream as unknown as StreamStates;
  if (marks.writeBytes !== undefined && states._writableState !== undefined) states._writableState.highWaterMark = marks.writeBytes;
  if (marks.readBytes !== undefined && states._readableState !== undefined) states._readableState.highWaterMark = marks.readBytes;
}

/** What node:http reads and writes of a socket a response is assigned to (apps/stream-socket.ts). */
export interface HttpSocketShape {
  /** OutgoingMessage.end() resets the cork count through it. */
  readonly _writableState: { corked: number };
  /** Set by ServerResponse.assignSocket. */
  _httpMessage: unknown;
}

/** The classes the checks look at: node's own, or stand-ins in the fence's tests. */
export interface NodeSubjects {
  readonly OutgoingMessage: typeof OutgoingMessage;
  readonly ServerResponse: typeof ServerResponse;
  readonly IncomingMessage: typeof IncomingMessage;
  readonly Duplex: typeof Duplex;
}

/** One of OutgoingMessage's private symbols, by its description. */
function outgoingSymbol(subjects: NodeSubjects, description: string): symbol | undefined {
  return Object.getOwnPropertySymbols(new subjects.OutgoingMessage()).find((candidate) => candidate.description === description);
}

/** A fresh request and response over a stand-in socket, as node:http makes them. */
function probeExchange(subjects: NodeSubjects): { req: IncomingMessage; res: ServerResponse; socket: EventEmitter & HttpSocketPrivates } {
  const socket = Object.assign(new EventEmitter(), { writable: true }) as EventEmitter & HttpSocketPrivates;
  const req = new subjects.IncomingMessage(socket as never);
  req.method = 'GET';
  return { req, res: new subjects.ServerResponse(req), socket };
}

const OUTGOING_FIELDS = ['_header', '_headerSent', '_hasBody', '_contentLength', '_removedContLen', 'sendDate', 'useChunkedEncodingByDefault'] as const;

/** What spry relies on in node:http and node:stream, each with a check that it is there and does what spry needs. */
export function nodeInternalChecks(subjects: NodeSubjects): InternalChecks {
  const checks: Record<string, () => boolean> = {
    'OutgoingMessage[kOutHeaders] (setHeader\'s store)': () => {
      const key = outgoingSymbol(subjects, 'kOutHeaders');
      if (key === undefined) return false;
      const { res } = probeExchange(subjects);
      res.setHeader('X-Probe', 'yes');
      const store = (res as unknown as Record<symbol, Record<string, [string, string]> | null>)[key];
      return store?.['x-probe']?.[0] === 'X-Probe' && store['x-probe'][1] === 'yes';
    },
    'OutgoingMessage[kNeedDrain]': () => outgoingSymbol(subjects, 'kNeedDrain') !== undefined,
    'OutgoingMessage.prototype._storeHeader': () => typeof (subjects.ServerResponse.prototype as unknown as Partial<OutgoingPrivates>)._storeHeader === 'function',
  };
  for (const field of OUTGOING_FIELDS) {
    checks[`ServerResponse.${field}`] = () => field in probeExchange(subjects).res;
  }
  checks['IncomingMessage.prototype._addHeaderLines'] = () => {
    const { req } = probeExchange(subjects);
    (req as unknown as IncomingPrivates)._addHeaderLines(['X-Probe', 'yes'], 2);
    return req.headers['x-probe'] === 'yes';
  };
  checks['IncomingMessage.prototype._read'] = () => typeof (subjects.IncomingMessage.prototype as unknown as Partial<IncomingPrivates>)._read === 'function';
  checks['socket._httpMessage (set by assignSocket, cleared by detachSocket)'] = () => {
    const { res, socket } = probeExchange(subjects);
    res.assignSocket(socket as never);
    const assigned = socket._httpMessage === res;
    res.detachSocket(socket as never);
    return assigned && socket._httpMessage === null;
  };
  checks['_writableState.highWaterMark (what writableHighWaterMark reads)'] = () => {
    const stream = new subjects.Duplex() as Duplex & StreamStates;
    stream._writableState!.highWaterMark = 12345;
    return stream.writableHighWaterMark === 12345;
  };
  checks['_readableState.highWaterMark (what readableHighWaterMark reads)'] = () => {
    const stream = new subjects.Duplex() as Duplex & StreamStates;
    stream._readableState!.highWaterMark = 12345;
    return stream.readableHighWaterMark === 12345;
  };
  return checks;
}

/** node:http's and node:stream's own classes. */
export const NODE: NodeSubjects = { OutgoingMessage, ServerResponse, IncomingMessage, Duplex };

/** Http2Session.prototype.destroy, from a session made on an unconnected socket (no handle, nothing left behind). */
function lookUpHttp2SessionDestroy(): Http2Session['destroy'] | undefined {
  const socket = new Socket();
  const session = performServerHandshake(socket);
  const destroy = Object.hasOwn(session, 'destroy') ? undefined : (session.destroy as Http2Session['destroy'] | undefined);
  session.destroy();
  socket.destroy();
  return typeof destroy === 'function' ? destroy : undefined;
}

const sessionDestroy = lookUpHttp2SessionDestroy();

requireInternals(() => `Node.js ${process.version}`, {
  ...nodeInternalChecks(NODE),
  'Http2Session.prototype.destroy': () => sessionDestroy !== undefined,
});

/** setHeader()'s store on an OutgoingMessage: `{ lowercased: [name as given, value] }`. */
export const kOutHeaders: symbol = outgoingSymbol(NODE, 'kOutHeaders')!;
/** Where an OutgoingMessage remembers that a write returned false (`writableNeedDrain`). */
export const kNeedDrain: symbol = outgoingSymbol(NODE, 'kNeedDrain')!;
/**
 * node:http2's own destroy, shared by every session: close() after GOAWAY, a socket error or
 * close, and destroy() itself all end a session through it.
 */
export const http2SessionDestroy: Http2Session['destroy'] = sessionDestroy!;
