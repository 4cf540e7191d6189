// The Content-Type a cached value is served with when nobody said: guessed from the key's (or
// file's) extension, as uWSGI's --load-file-in-cache does with its mime table. Only the types a
// web page pulls in (and so that push sends) are listed; anything else is opaque bytes.

const TEXT = '; charset=utf-8';

const BY_EXTENSION: ReadonlyMap<string, string> = new Map(Object.entries({
  css: `text/css${TEXT}`,
  js: `text/javascript${TEXT}`,
  mjs: `text/javascript${TEXT}`,
  html: `text/html${TEXT}`,
  htm: `text/html${TEXT}`,
  json: `application/json${TEXT}`,
  map: `application/json${TEXT}`,
  svg: `image/svg+xml${TEXT}`,
  txt: `text/plain${TEXT}`,
  xml: `application/xml${TEXT}`,
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  ico: 'image/x-icon',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  wasm: 'application/wasm',
}));

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** The type for `path` (a file path or URL path; a query or fragment is ignored), by extension. */
export function contentTypeFor(path: string): string {
  const end = path.search(/[?#]/);
  const clean = end === -1 ? path : path.slice(0, end);
  const name = clean.slice(clean.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return DEFAULT_CONTENT_TYPE;
  return BY_EXTENSION.get(name.slice(dot + 1).toLowerCase()) ?? DEFAULT_CONTENT_TYPE;
}
