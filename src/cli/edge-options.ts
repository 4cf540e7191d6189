// The edge's options in uWSGI's words: --static-map, --static-map2, --check-static,
// --static-index, --static-expires-type, --static-expires-uri, --static-skip-ext,
// --static-cache-paths, --harakiri,
// --http-to-https and --hsts. (--limit-post is a tuning key: tuning.ts.)

import { statSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EdgeConfig } from '../config/config.ts';
import { ConfigError } from '../errors.ts';
import type { ExpiresRule, StaticMount } from '../static/static-config.ts';
import { parseInteger } from './numbers.ts';

/** The edge options as given, before the listeners are known. */
export interface EdgeDraft {
  readonly mounts: StaticMount[];
  readonly checkDirs: string[];
  readonly index: string[];
  readonly expires: ExpiresRule[];
  readonly skipExtensions: string[];
  cachePathsSeconds?: number;
  harakiriMs?: number;
  hstsSeconds?: number;
  httpToHttps?: boolean;
}

export interface EdgeOptionSpec {
  readonly name: string;
  readonly takesValue: boolean;
  readonly repeats: boolean;
  readonly valueHint?: string;
  readonly summary: string;
  readonly apply: (value: string | undefined, raw: string, draft: EdgeDraft) => void;
}

export function emptyEdgeDraft(): EdgeDraft {
  return { mounts: [], checkDirs: [], index: [], expires: [], skipExtensions: [] };
}

const MAX_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
const ONE_YEAR_SECONDS = 365 * 24 * 3600;

export const EDGE_OPTIONS: readonly EdgeOptionSpec[] = [
  {
    name: 'static-map', takesValue: true, repeats: true, valueHint: '/URL=DIR',
    summary: 'serve files under DIR for URLs under /URL (/URL/a.css is DIR/a.css), before the app; longest /URL first',
    apply: (value, raw, draft) => draft.mounts.push(parseMount(raw, value ?? '', false)),
  },
  {
    name: 'static-map2', takesValue: true, repeats: true, valueHint: '/URL=DIR',
    summary: 'as --static-map, keeping the URL in the path (/URL/a.css is DIR/URL/a.css)',
    apply: (value, raw, draft) => draft.mounts.push(parseMount(raw, value ?? '', true)),
  },
  {
    name: 'check-static', takesValue: true, repeats: true, valueHint: 'DIR',
    summary: 'a file under DIR at the URL\'s path wins over the app (or backend)',
    apply: (value, raw, draft) => draft.checkDirs.push(directory(raw, value ?? '')),
  },
  {
    name: 'static-index', takesValue: true, repeats: true, valueHint: 'FILE',
    summary: 'serve FILE (index.html) for a URL naming a static directory; repeat to try several',
    apply: (value, raw, draft) => {
      const text = value ?? '';
      if (text === '' || text.includes('/') || text === '.' || text === '..') throw new ConfigError(raw, `"${text}": must be a file name`);
      draft.index.push(text);
    },
  },
  {
    name: 'static-expires-type', takesValue: true, repeats: true, valueHint: 'TYPE=SECONDS',
    summary: 'Cache-Control max-age and Expires for static files of content type TYPE (text/css=86400)',
    apply: (value, raw, draft) => {
      const [type, seconds] = keyAndSeconds(raw, value ?? '');
      if (!/^[\w.+-]+\/[\w.+-]+$/.test(type)) throw new ConfigError(raw, `"${type}" is not a content type`);
      draft.expires.push({ kind: 'type', type: type.toLowerCase(), seconds });
    },
  },
  {
    name: 'static-expires-uri', takesValue: true, repeats: true, valueHint: 'REGEX=SECONDS',
    summary: 'Cache-Control max-age and Expires for static files whose URL matches REGEX',
    apply: (value, raw, draft) => {
      const [pattern, seconds] = keyAndSeconds(raw, value ?? '');
      try {
        new RegExp(pattern);
      } catch {
        throw new ConfigError(raw, `"${pattern}" is not a regular expression`);
      }
      draft.expires.push({ kind: 'uri', pattern, seconds });
    },
  },
  {
    name: 'static-skip-ext', takesValue: true, repeats: true, valueHint: '.EXT',
    summary: 'never serve files ending in .EXT as static files (they go to the app)',
    apply: (value, raw, draft) => {
      const text = (value ?? '').toLowerCase();
      if (!/^\.?[\w.-]+$/.test(text)) throw new ConfigError(raw, `"${value ?? ''}" is not an extension`);
      draft.skipExtensions.push(text.startsWith('.') ? text : `.${text}`);
    },
  },
  {
    name: 'static-cache-paths', takesValue: true, repeats: false, valueHint: 'SECONDS',
    summary: 'keep what a static lookup found (real path, stat, files up to 64 KiB whole) for SECONDS: a changed file is seen at most that late',
    apply: (value, raw, draft) => {
      const text = value ?? '';
      draft.cachePathsSeconds = parseInteger(raw, `"${text}"`, text, { min: 0, max: 3600, unit: 'seconds' });
    },
  },
  {
    name: 'harakiri', takesValue: true, repeats: false, valueHint: 'SECONDS',
    summary: 'a request not answered within SECONDS gets 504 (or a reset) and its app request is aborted; a worker whose event loop is stuck that long is killed and respawned',
    apply: (value, raw, draft) => {
      const text = value ?? '';
      draft.harakiriMs = 1000 * parseInteger(raw, `"${text}"`, text, { min: 1, max: MAX_SECONDS, unit: 'seconds' });
    },
  },
  {
    name: 'http-to-https', takesValue: false, repeats: false,
    summary: '--http listeners answer every request with a 301 to the same URL on the first --https2 port',
    apply: (_value, _raw, draft) => {
      draft.httpToHttps = true;
    },
  },
  {
    name: 'hsts', takesValue: true, repeats: false, valueHint: 'SECONDS',
    summary: 'send Strict-Transport-Security: max-age=SECONDS on TLS responses',
    apply: (value, raw, draft) => {
      const text = value ?? '';
      draft.hstsSeconds = parseInteger(raw, `"${text}"`, text, { min: 0, max: 2 * ONE_YEAR_SECONDS, unit: 'seconds' });
    },
  },
];

/**
 * The edge's config, or undefined when no edge option was given. `httpsPort` is the first
 * --https2 listener's port (undefined without one, which --http-to-https refuses).
 */
export function finishEdge(draft: EdgeDraft, httpsPort: number | undefined): EdgeConfig | undefined {
  if (draft.httpToHttps === true && httpsPort === undefined) throw new ConfigError('--http-to-https', 'needs an --https2 listener to send clients to');
  const mounts = [...draft.mounts].sort((a, b) => b.urlPrefix.length - a.urlPrefix.length);
  const staticFiles = mounts.length > 0 || draft.checkDirs.length > 0
    ? { mounts, checkDirs: draft.checkDirs, index: draft.index, expires: draft.expires, skipExtensions: draft.skipExtensions, cachePathsSeconds: draft.cachePathsSeconds ?? 0 }
    : undefined;
  const edge: EdgeConfig = {
    ...(staticFiles === undefined ? {} : { staticFiles }),
    ...(draft.harakiriMs === undefined ? {} : { harakiriMs: draft.harakiriMs }),
    ...(draft.hstsSeconds === undefined ? {} : { hstsSeconds: draft.hstsSeconds }),
    ...(draft.httpToHttps === true ? { httpsPort } : {}),
  };
  return Object.keys(edge).length === 0 ? undefined : edge;
}

function parseMount(raw: string, text: string, keepPrefix: boolean): StaticMount {
  const equals = text.indexOf('=');
  if (equals <= 0 || !text.startsWith('/')) throw new ConfigError(raw, `"${text}" is not /URL=DIR`);
  const urlPrefix = text.slice(0, equals).replace(/\/+$/, '');
  if (/[?#%\\]|\/\.\.?(\/|$)/.test(urlPrefix)) throw new ConfigError(raw, `"${text.slice(0, equals)}": a URL prefix is a plain path`);
  return { urlPrefix, dir: directory(raw, text.slice(equals + 1)), keepPrefix };
}

/** An existing directory, absolute and with symlinks resolved. */
function directory(raw: string, text: string): string {
  if (text === '') throw new ConfigError(raw, 'needs a directory');
  try {
    const real = realpathSync.native(resolve(text));
    if (!statSync(real).isDirectory()) throw new ConfigError(raw, `${text}: not a directory`);
    return real;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(raw, `${text}: no such directory`);
  }
}

function keyAndSeconds(raw: string, text: string): [string, number] {
  const equals = text.lastIndexOf('=');
  if (equals <= 0) throw new ConfigError(raw, `"${text}" is not KEY=SECONDS`);
  const seconds = text.slice(equals + 1);
  return [text.slice(0, equals), parseInteger(raw, `"${seconds}"`, seconds, { min: 0, max: 10 * ONE_YEAR_SECONDS, unit: 'seconds' })];
}
