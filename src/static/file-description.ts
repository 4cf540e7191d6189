// What a response says about a file, worked out once per lookup and kept with a cache entry
// (--static-cache-paths), so a hit formats no date and looks up no type: its validators, its
// content type, and the whole head of a plain 200.

import { contentTypeFor } from '../cache/content-type.ts';
import type { FlatHeaders } from '../exchange/exchange.ts';
import { validatorsOf, type FileFacts, type Validators } from './conditional.ts';

export interface FileDescription<Facts extends FileFacts = FileFacts> {
  /** The real path (symlinks resolved), inside its root. */
  readonly path: string;
  readonly facts: Facts;
  readonly validators: Validators;
  readonly contentType: string;
  /** A whole file's 200 headers, before any --static-expires-* rule: shared, never to be changed. */
  readonly wholeHead: FlatHeaders;
}

export function describeFile<Facts extends FileFacts>(path: string, facts: Facts): FileDescription<Facts> {
  const validators = validatorsOf(facts);
  const contentType = contentTypeFor(path);
  const wholeHead = Object.freeze(['etag', validators.etag, 'last-modified', validators.lastModified, 'accept-ranges', 'bytes', 'content-type', contentType, 'content-length', String(facts.size)]) as FlatHeaders;
  return { path, facts, validators, contentType, wholeHead };
}
