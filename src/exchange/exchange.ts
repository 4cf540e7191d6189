// The protocol-neutral request/response every front end (SPDY, HTTP/2, HTTP/1.1) hands to the
// app layer. Apps and upstreams see only this; nothing above the front ends knows the protocol
// but through `RequestHead.protocol`, which exists to fill the uWSGI-style environment.

import type { PushedResource } from '../push/push-planner.ts';
import type { ConnectionInfo } from './connection-info.ts';

export type { ConnectionInfo };

/** `[name0, value0, name1, value1, …]`, names lower case, as Node's rawHeaders. */
export type FlatHeaders = string[];

/** Which protocol carried the request, and its per-protocol facts for the environment. */
export type ProtocolMarker =
  | { readonly kind: 'spdy'; readonly version: '2' | '3' | '3.1'; readonly streamId: number }
  | { readonly kind: 'h2'; readonly streamId: number }
  | { readonly kind: 'http/1.1' }
  | { readonly kind: 'http/1.0' };

export interface RequestHead {
  readonly method: string;
  /** The request target as sent: path and query, e.g. `/a/b?c=d`. */
  readonly target: string;
  /** `host[:port]` from :host / Host. */
  readonly authority: string;
  readonly scheme: string;
  /** `1.1` for HTTP/1.1-semantics requests (what SPDY's :version says), `2.0` for h2. */
  readonly httpVersion: string;
  /** Regular request headers (no pseudo-headers), names lower case, repeated names repeated. */
  readonly headers: FlatHeaders;
  readonly connection: ConnectionInfo;
  readonly protocol: ProtocolMarker;
  /** False when the request is known to carry no body (its headers ended the stream). */
  readonly hasBody: boolean;
  /**
   * Set when the request arrived over the uwsgi protocol: the variables the router sent, which
   * are the request's environment as they stand (see environ.ts).
   */
  readonly upstreamVars?: Readonly<Record<string, string>>;
}

/** Receives a request body with backpressure. */
export interface BodySink {
  /** A chunk (the sink owns it). Return false when full: delivery pauses until resumeBody(). */
  data(chunk: Buffer): boolean;
  end(): void;
}

/** The listener's write-buffer and read-buffer (see StreamTuning), for the app adapters. */
export interface BufferSizes {
  /** Response bytes an app may have queued before it is told to wait. */
  readonly writeBytes: number;
  /** Request body bytes held for an app before delivery pauses. */
  readonly readBytes: number;
}

/** The body side of a push stream: what an app writes a pushed response's body to. */
export interface PushSink {
  /** Queues body bytes; false means the caller should wait for onDrain. */
  write(chunk: Buffer, callback?: () => void): boolean;
  /** Ends the body (after an optional last chunk). */
  end(chunk?: Buffer, callback?: () => void): void;
  /** Abandons the push: RST_STREAM. */
  abort(): void;
  onDrain: (() => void) | null;
  /** Called once if the client reset the push or the connection went away. */
  onAbort: ((reason: Error) => void) | null;
}

export interface ServerExchange {
  readonly head: RequestHead;
  readonly buffers: BufferSizes;
  /** True once the client reset the request or its connection went away. */
  readonly aborted: boolean;
  /** True once the response status and headers have been handed to the protocol. */
  readonly responded: boolean;

  /** Starts delivering the request body (buffered chunks first). Call once. */
  setBodySink(sink: BodySink): void;
  /** Resumes delivery after data() returned false. */
  resumeBody(): void;

  /** Sends the response head. Hop-by-hop headers are dropped by the protocol as it requires. */
  respond(status: number, headers: FlatHeaders, endStream: boolean): void;
  /** Queues body bytes; false means the caller should wait for onDrain. */
  write(chunk: Buffer, callback?: () => void): boolean;
  /** Ends the body (after an optional last chunk); callback once the last byte is handed to the socket. */
  end(chunk?: Buffer, callback?: () => void): void;
  /** Abandons the exchange (the app failed after responding): RST_STREAM, or a closed connection. */
  abort(): void;
  /**
   * respond() and end(body) in one call, for a body that is all there (h2: HEADERS and the body
   * with END_STREAM, without the empty DATA frame a body written later ends on). Optional:
   * respond() then end() does the same.
   */
  respondWithBody?(status: number, headers: FlatHeaders, body: Buffer): void;
  /**
   * Opens a server push associated with this request (SPDY and h2 only); undefined when the
   * protocol cannot now: push off or refused by the client, its limits, a closing session.
   */
  push?(resource: PushedResource): PushSink | undefined;

  /** The --http-to backend serving a forwarded request: set by the forwarding app, for the access log. */
  backend?: string | undefined;
  /**
   * The app has started reading the body: a request that said `Expect: 100-continue` gets its
   * interim 100 now (h2; HTTP/1.1's is node:http's, SPDY has no interim head). Idempotent.
   */
  sendContinue?(): void;

  /** Called when write() may be called again after it returned false. */
  onDrain: (() => void) | null;
  /** Called once if the exchange is aborted by the client or the connection (never after end). */
  onAbort: ((reason: Error) => void) | null;
}
