// A request's declared body length, read from its content-length fields the one way every part
// of spry that counts a body reads it (docs/request-heads.md §2; RFC 9110 §8.6): digits only,
// and the same value if the field is repeated. The SPDY front end holds a stream's DATA to it,
// and the HTTP backend client a forwarded body (src/upstream/http-attempt.ts).

import type { FlatHeaders } from './exchange.ts';

/** No content-length: the body is as long as what arrives. */
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

function isDigits(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
