// A request's DATA must add up to its content-length (docs/request-heads.md §2; RFC 9110 §8.6,
// and RFC 9113 §8.1.1 for h2, where nghttp2 enforces it as llhttp does on HTTP/1.1). SPDY's
// specs leave it unsaid, and a body of another length, forwarded with the declared one, would
// desynchronise a kept-alive backend connection: the backend would read the rest of this body as
// a next request, or the next request as the rest of this body. So a stream whose body does not
// match is reset with PROTOCOL_ERROR, as nghttp2 does on h2.

import type { FlatHeaders } from '../exchange/exchange.ts';
import { RstStatus } from './constants.ts';
import { SpdyStreamError } from './protocol-error.ts';

/** No content-length: the body is as long as its DATA. */
export const NO_DECLARED_LENGTH = -1;
/** Past this many digits a length is beyond any body spry takes (and beyond exact doubles). */
const MAX_DIGITS = 15;

/** The declared length, NO_DECLARED_LENGTH, or the problem with the header (a message). */
export function declaredBodyLength(headers: FlatHeaders): number | string {
  let declared = NO_DECLARED_LENGTH;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'content-length') continue;
    const value = headers[i + 1];
    if (value.length === 0 || value.length > MAX_DIGITS || !isDigits(value)) return `content-length ${JSON.stringify(value)} is not a length`;
    const length = Number(value);
    if (declared !== NO_DECLARED_LENGTH && declared !== length) return 'content-length has two different values';
    declared = length;
  }
  return declared;
}

/** The problem, if a stream declaring `declared` bytes has `received` once this DATA is counted. */
export function bodyLengthFault(streamId: number, declared: number, received: number, fin: boolean): SpdyStreamError | undefined {
  if (declared === NO_DECLARED_LENGTH || (received < declared && !fin) || received === declared) return undefined;
  const sent = received > declared ? `more than ${declared} bytes` : `${received} bytes, then FIN`;
  return new SpdyStreamError('SPRY_ERR_SPDY_CONTENT_LENGTH', streamId, RstStatus.PROTOCOL_ERROR, `stream ${streamId} declared content-length ${declared} and sent ${sent}`);
}

function isDigits(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
