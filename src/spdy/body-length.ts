// A request's DATA must add up to its content-length (docs/request-heads.md §2; RFC 9110 §8.6,
// and RFC 9113 §8.1.1 for h2, where nghttp2 enforces it as llhttp does on HTTP/1.1). SPDY's
// specs leave it unsaid, and a body of another length, forwarded with the declared one, would
// desynchronise a kept-alive backend connection: the backend would read the rest of this body as
// a next request, or the next request as the rest of this body. So a stream whose body does not
// match is reset with PROTOCOL_ERROR, as nghttp2 does on h2.

import { NO_DECLARED_LENGTH } from '../exchange/declared-length.ts';
import { RstStatus } from './constants.ts';
import { SpdyStreamError } from './protocol-error.ts';

/** The problem, if a stream declaring `declared` bytes has `received` once this DATA is counted. */
export function bodyLengthFault(streamId: number, declared: number, received: number, fin: boolean): SpdyStreamError | undefined {
  if (declared === NO_DECLARED_LENGTH || (received < declared && !fin) || received === declared) return undefined;
  const sent = received > declared ? `more than ${declared} bytes` : `${received} bytes, then FIN`;
  return new SpdyStreamError('SPRY_ERR_SPDY_CONTENT_LENGTH', streamId, RstStatus.PROTOCOL_ERROR, `stream ${streamId} declared content-length ${declared} and sent ${sent}`);
}
