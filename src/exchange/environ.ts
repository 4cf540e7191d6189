// The uWSGI-style request environment: the CGI/WSGI variables uWSGI passes to its workers, plus
// the SPDY markers its SPDY router adds (`SPDY`, `SPDY.version`, `SPDY.stream`) and their
// HTTP/2 counterparts. In-process apps get it as an object; uwsgi backends get it as vars.
// See ../shared/SPEC.md ("What the app sees") and docs/uwsgi-wire.md ("Streams").

import type { RequestHead } from './exchange.ts';

export type Environ = Record<string, string>;

export function buildEnviron(head: RequestHead): Environ {
  // Behind a uwsgi router the router's variables are the environment, SPDY markers included.
  if (head.upstreamVars !== undefined) return { ...head.upstreamVars };
  const target = head.target;
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const { connection, protocol } = head;
  const env: Environ = {
    REQUEST_METHOD: head.method,
    REQUEST_URI: target,
    PATH_INFO: decodePath(rawPath),
    QUERY_STRING: q < 0 ? '' : target.slice(q + 1),
    SERVER_PROTOCOL: protocol.kind === 'h2' ? 'HTTP/2.0' : `HTTP/${head.httpVersion}`,
    SCRIPT_NAME: '',
    SERVER_NAME: hostName(head.authority) || connection.localAddress,
    SERVER_PORT: String(connection.localPort),
    REMOTE_ADDR: connection.remoteAddress,
    REMOTE_PORT: String(connection.remotePort),
    UWSGI_SCHEME: head.scheme,
  };
  if (connection.secure) env.HTTPS = 'on';
  if (head.authority !== '') env.HTTP_HOST = head.authority;
  const headers = head.headers;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    const value = headers[i + 1];
    let key: string;
    if (name === 'content-type') key = 'CONTENT_TYPE';
    else if (name === 'content-length') key = 'CONTENT_LENGTH';
    else if (name === 'host') continue; // HTTP_HOST comes from the authority
    else key = `HTTP_${name.toUpperCase().replaceAll('-', '_')}`;
    const previous = env[key];
    // Repeated headers are joined as a CGI gateway joins them: cookies with '; ', others ', '.
    env[key] = previous === undefined ? value : `${previous}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  if (protocol.kind === 'spdy') {
    env.SPDY = 'on';
    env['SPDY.version'] = protocol.version;
    env['SPDY.stream'] = String(protocol.streamId);
  } else if (protocol.kind === 'h2') {
    env.HTTP2 = 'on';
    env['HTTP2.stream'] = String(protocol.streamId);
  }
  return env;
}

function hostName(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end < 0 ? authority : authority.slice(1, end);
  }
  const colon = authority.lastIndexOf(':');
  return colon < 0 ? authority : authority.slice(0, colon);
}

/** PATH_INFO is percent-decoded, as bytes read as latin1 (WSGI's convention). */
function decodePath(path: string): string {
  if (!path.includes('%')) return path;
  try {
    return Buffer.from(decodeURIComponent(path), 'utf8').toString('latin1');
  } catch {
    return path;
  }
}

/** Heads of lazy environments not built yet, by their (empty) target object. */
const unbuilt = new WeakMap<object, RequestHead>();

function built(target: Environ): Environ {
  const head = unbuilt.get(target);
  if (head !== undefined) {
    unbuilt.delete(target);
    Object.assign(target, buildEnviron(head));
  }
  return target;
}

// One handler for every lazy environment: any look at it builds it first, then acts on it.
const LAZY_ENVIRON: ProxyHandler<Environ> = {
  get: (target, key, receiver) => Reflect.get(built(target), key, receiver),
  has: (target, key) => Reflect.has(built(target), key),
  ownKeys: (target) => Reflect.ownKeys(built(target)),
  getOwnPropertyDescriptor: (target, key) => Reflect.getOwnPropertyDescriptor(built(target), key),
  set: (target, key, value, receiver) => Reflect.set(built(target), key, value, receiver),
  deleteProperty: (target, key) => Reflect.deleteProperty(built(target), key),
  defineProperty: (target, key, descriptor) => Reflect.defineProperty(built(target), key, descriptor),
};

/**
 * The environment as an object that is built on first use: a plain object in every respect
 * (keys, spread, JSON), but a handler that never looks at it never pays for building it.
 */
export function lazyEnviron(head: RequestHead): Environ {
  const target: Environ = {};
  unbuilt.set(target, head);
  return new Proxy(target, LAZY_ENVIRON);
}
