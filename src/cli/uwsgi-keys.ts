// uWSGI options spry does not implement, as an ini file (or a command line) may carry them.
// Those that only tune uWSGI's own machinery are ignored with one warning line each; those that
// change what is served (routes, mounts, app loading, daemonizing) stop startup, naming the key,
// because running without them would serve something other than what the file says. Keys that
// are neither are the file's own placeholders (`logbase = /var/log/app`, read as %(logbase)).

/** Ignored with a warning: process tuning, logging details, uWSGI internals. */
const HARMLESS = new Set([
  'die-on-term', 'enable-threads', 'threads', 'buffer-size', 'max-requests', 'max-requests-delta',
  'reload-on-rss', 'evil-reload-on-rss', 'reload-on-as', 'lazy', 'lazy-apps', 'single-interpreter',
  'thunder-lock', 'need-app', 'strict', 'memory-report', 'auto-procname', 'procname', 'procname-prefix',
  'procname-prefix-spaced', 'procname-master', 'no-orphans', 'listen', 'log-date', 'log-master',
  'logfile-chown', 'log-maxsize', 'log-backupname', 'log-reopen', 'cheaper', 'cheaper-algo',
  'cheaper-initial', 'cheaper-step', 'idle', 'die-on-idle', 'post-buffering', 'offload-threads',
  'socket-timeout', 'py-autoreload', 'cpu-affinity', 'ignore-sigpipe', 'ignore-write-errors',
  'disable-write-exception', 'harakiri-verbose',
  'hook-master-start', 'master-fifo', 'worker-reload-mercy-hard', 'stats-minified', 'memory-limit',
  'limit-as', 'max-fd', 'close-on-exec', 'close-on-exec2', 'so-keepalive', 'http-keepalive',
  'http-auto-chunked', 'http-websockets', 'add-header', 'uwsgi-socket-modifier1', 'carbon',
  'plugins-dir', 'harakiri', 'logto', 'logto2', 'log-format', 'logformat', 'disable-logging',
  'stats', 'stats-http', 'touch-logreopen', 'log-x-forwarded-for',
]);

/** Stops startup: serving without them would serve something else. */
const CHANGES_WHAT_IS_SERVED = new Set([
  'route', 'route-run', 'route-host', 'route-uri', 'route-qs', 'route-if', 'response-route',
  'final-route', 'error-route', 'mount', 'manage-script-name', 'static-map', 'static-map2',
  'check-static', 'static-index', 'chdir', 'chdir2', 'env', 'pymodule-alias', 'eval',
  'https-socket', 'http11-socket', 'fastcgi-socket', 'scgi-socket', 'ssl-socket',
  'daemonize', 'daemonize2', 'emperor', 'cron', 'attach-daemon', 'smart-attach-daemon', 'mule',
  'spooler', 'limit-post', 'http-to-https', 'sni', 'sni-dir', 'sni-regexp',
  'shared-socket-fd', 'socket-protocol', 'protocol',
]);

export type UwsgiKeyKind = 'harmless' | 'changes-what-is-served' | 'placeholder';

/** What a key spry has no option for is (uWSGI writes keys with - or _). */
export function unimplementedKey(key: string): UwsgiKeyKind {
  const name = key.replaceAll('_', '-');
  if (HARMLESS.has(name)) return 'harmless';
  if (CHANGES_WHAT_IS_SERVED.has(name) || name.startsWith('route-') || name.startsWith('hook-')) return 'changes-what-is-served';
  return 'placeholder';
}
