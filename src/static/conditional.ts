// The conditional and range parts of a file's GET (RFC 9110 §13 and §14): validators from the
// file's size and modification time, and the verdict on If-None-Match, If-Modified-Since, Range
// and If-Range. Pure: no file system, no exchange.

/** What the response is: the whole file, one range of it, not modified, or an unsatisfiable range. */
export type FileVerdict =
  | { readonly kind: 'whole' }
  | { readonly kind: 'range'; readonly start: number; readonly end: number }
  | { readonly kind: 'not-modified' }
  | { readonly kind: 'unsatisfiable' };

export interface FileFacts {
  readonly size: number;
  readonly mtimeMs: number;
}

export interface Validators {
  readonly etag: string;
  readonly lastModified: string;
}

/** nginx's shape: `"mtime-size"` in hex, seconds of mtime (what Last-Modified can say). */
export function validatorsOf(file: FileFacts): Validators {
  const seconds = Math.floor(file.mtimeMs / 1000);
  return { etag: `"${seconds.toString(16)}-${file.size.toString(16)}"`, lastModified: new Date(seconds * 1000).toUTCString() };
}

export interface ConditionalHeaders {
  readonly ifNoneMatch?: string;
  readonly ifModifiedSince?: string;
  readonly range?: string;
  readonly ifRange?: string;
}

export const WHOLE: FileVerdict = { kind: 'whole' };
const NOT_MODIFIED: FileVerdict = { kind: 'not-modified' };
const UNSATISFIABLE: FileVerdict = { kind: 'unsatisfiable' };

export function fileVerdict(file: FileFacts, validators: Validators, request: ConditionalHeaders, method: string): FileVerdict {
  // RFC 9110 §13.2.2: If-None-Match first; If-Modified-Since only without it.
  if (request.ifNoneMatch !== undefined) {
    if (etagListMatches(request.ifNoneMatch, validators.etag)) return NOT_MODIFIED;
  } else if (request.ifModifiedSince !== undefined) {
    const since = Date.parse(request.ifModifiedSince);
    if (!Number.isNaN(since) && Math.floor(file.mtimeMs / 1000) * 1000 <= since) return NOT_MODIFIED;
  }
  if (request.range === undefined || method !== 'GET') return WHOLE;
  // RFC 9110 §13.1.5: a Range whose If-Range validator no longer holds is ignored.
  if (request.ifRange !== undefined && request.ifRange !== validators.etag && request.ifRange !== validators.lastModified) return WHOLE;
  return rangeVerdict(request.range, file.size);
}

/** One `bytes=` range; several (or anything malformed) is answered whole, as RFC 9110 §14.2 allows. */
export function rangeVerdict(header: string, size: number): FileVerdict {
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (match === null) return WHOLE;
  const [, first, last] = match;
  if (first === '' && last === '') return WHOLE;
  let start: number;
  let end: number;
  if (first === '') {
    // A suffix: the last N bytes.
    const length = Number(last);
    if (length === 0) return UNSATISFIABLE;
    start = Math.max(0, size - length);
    end = size - 1;
  } else {
    start = Number(first);
    end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
    if (last !== '' && Number(last) < start) return WHOLE; // invalid: ignored
  }
  if (start >= size || !Number.isSafeInteger(start)) return UNSATISFIABLE;
  return { kind: 'range', start, end };
}

/** `*`, or a comma-separated list of entity tags compared weakly (RFC 9110 §8.8.3.2). */
function etagListMatches(list: string, etag: string): boolean {
  if (list.trim() === '*') return true;
  for (const one of list.split(',')) {
    const tag = one.trim();
    if ((tag.startsWith('W/') ? tag.slice(2) : tag) === etag) return true;
  }
  return false;
}
