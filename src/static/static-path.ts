// Which file a URL path names under the static mounts, refusing every way out of a directory:
// dot segments (plain or percent-encoded), encoded slashes and backslashes, NUL, and bytes that
// do not decode as UTF-8. Symlinks are checked after this, on the resolved path (static-files.ts).

import { sep } from 'node:path';
import type { StaticFilesConfig } from './static-config.ts';

/** The verdict on a request path: a file path to try, a refusal, or not ours (the app's). */
export type StaticPathVerdict =
  | { readonly kind: 'file'; readonly path: string; readonly root: string }
  | { readonly kind: 'refused' }
  | { readonly kind: 'none' };

const NONE: StaticPathVerdict = { kind: 'none' };
const REFUSED: StaticPathVerdict = { kind: 'refused' };

/** Candidates for `target` (path and query) in lookup order: the matching mount, then the check dirs. */
export function staticCandidates(config: StaticFilesConfig, target: string): StaticPathVerdict[] {
  const query = target.indexOf('?');
  const path = query === -1 ? target : target.slice(0, query);
  const found: StaticPathVerdict[] = [];
  for (const mount of config.mounts) {
    const prefix = mount.urlPrefix;
    if (!path.startsWith(prefix) || (path.length > prefix.length && path.charCodeAt(prefix.length) !== 47 /* / */)) continue;
    const rest = mount.keepPrefix ? path : path.slice(prefix.length);
    found.push(resolveUnder(mount.dir, rest));
    break; // longest prefix first: the first match is the one
  }
  for (const dir of config.checkDirs) found.push(resolveUnder(dir, path));
  return found;
}

/** `rest` (a URL path, `/a/b.css`) as a path under `root`, or a refusal. */
export function resolveUnder(root: string, rest: string): StaticPathVerdict {
  if (rest === '' || rest === '/') return { kind: 'file', path: root, root };
  const segments = rest.split('/');
  let path = root;
  for (const raw of segments) {
    if (raw === '') continue;
    const segment = decodeSegment(raw);
    if (segment === undefined || segment === '.' || segment === '..' || /[/\\\0]/.test(segment)) return REFUSED;
    path += sep + segment;
  }
  return { kind: 'file', path, root };
}

function decodeSegment(raw: string): string | undefined {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined; // a stray %, or %c0%ae-style overlong UTF-8
  }
}

export { NONE as NOT_STATIC };
