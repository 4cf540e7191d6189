// --http-to-https: where a plain request is sent instead, the same host, path and query on the
// https port (kept, unlike uWSGI, which drops it: a router on :8443 is no use at :443).

/** `https://host:port/path?query` for a request with `authority` and `target`. */
export function httpsLocation(authority: string, target: string, port: number, fallbackHost: string): string {
  let host = authority === '' ? fallbackHost : authority;
  // Strip the port: [v6]:port, host:port.
  if (host.startsWith('[')) host = host.slice(0, host.indexOf(']') + 1);
  else if (host.includes(':')) host = host.slice(0, host.lastIndexOf(':'));
  return `https://${host}${port === 443 ? '' : `:${port}`}${target.startsWith('/') ? target : '/'}`;
}
