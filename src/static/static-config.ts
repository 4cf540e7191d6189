// What --static-map, --static-map2, --check-static, --static-index, --static-expires-*,
// --static-skip-ext and --static-cache-paths describe: the directories spry serves files from
// before the app sees a request (uWSGI's offloading options, same words). Plain data: a master sends it to its workers.

export interface StaticMount {
  /** The URL path prefix, without a trailing slash (`/static`); `` maps the whole site. */
  readonly urlPrefix: string;
  /** The directory, absolute and with symlinks resolved (what a file must stay inside). */
  readonly dir: string;
  /** --static-map2: the whole URL path is looked up under dir, prefix included. */
  readonly keepPrefix: boolean;
}

/** A cache lifetime: by content type (`--static-expires-type`) or URL regex (`--static-expires-uri`). */
export type ExpiresRule =
  | { readonly kind: 'type'; readonly type: string; readonly seconds: number }
  | { readonly kind: 'uri'; readonly pattern: string; readonly seconds: number };

export interface StaticFilesConfig {
  /** Longest prefix first: the first match decides. */
  readonly mounts: readonly StaticMount[];
  /** --check-static: a file under one of these (URL path as is) wins over the app. */
  readonly checkDirs: readonly string[];
  /** Tried in order for a URL naming a directory (--static-index). */
  readonly index: readonly string[];
  /** First match wins; none: no cache headers beyond the validators. */
  readonly expires: readonly ExpiresRule[];
  /** Extensions (with the dot, lower case) never served as files: they go to the app (`.php`). */
  readonly skipExtensions: readonly string[];
  /** --static-cache-paths: how long a lookup (real path, stat, a small file's bytes) is kept; 0: not at all. */
  readonly cachePathsSeconds: number;
}

export function hasStaticFiles(config: StaticFilesConfig | undefined): config is StaticFilesConfig {
  return config !== undefined && (config.mounts.length > 0 || config.checkDirs.length > 0);
}
