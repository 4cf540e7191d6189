// An answer written straight onto a node:http socket, past the request's ServerResponse (the
// edge's 504 and 413 on HTTP/1.1, node-guards.ts): the response object never learns of it, so
// whoever records the exchange (the access log, observed-app.ts) reads it from here.

import type { ServerResponse } from 'node:http';

export const kRawAnswer = Symbol('spry.rawAnswer');

export interface RawAnswer {
  readonly status: number;
  /** The serialised head's bytes and the body's, as written. */
  readonly headBytes: number;
  readonly bodyBytes: number;
}

export type RawAnswerCarrier = ServerResponse & { [kRawAnswer]?: RawAnswer };
