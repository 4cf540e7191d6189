// What spry adds to node:http's request and response objects, for TypeScript users: the
// request fields every app gets and node-spdy's res.push().

import type { Writable } from 'node:stream';
import type { PushCallback, PushOptions } from '../apps/push-writable.ts';
import type { Environ } from '../exchange/environ.ts';

declare module 'node:http' {
  interface IncomingMessage {
    /** The uWSGI-style environment (REQUEST_METHOD, SPDY, SPDY.version, …); undefined on requests spry did not serve. */
    environ?: Environ;
    /** node-spdy's: true on SPDY streams. */
    isSpdy?: boolean;
    /** node-spdy's: 2, 3 or 3.1 on SPDY streams. */
    spdyVersion?: number;
    /** node-spdy's: the SPDY stream id. */
    spdyStream?: number;
  }
  interface ServerResponse {
    /**
     * node-spdy's push: opens a server push of `path` (SPDY and h2) and returns the stream to
     * write its body to; where push is off or refused, a stream that discards.
     */
    push(path: string, options?: PushOptions, callback?: PushCallback): Writable;
  }
}

export type { PushCallback, PushOptions };
