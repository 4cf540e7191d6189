// A test app for spry, modelled on Werkzeug's `werkzeug.testapp:test_app` (the page uWSGI's SPDY
// router docs show). It is a plain Node request listener, so it also runs under `node:http`:
//
//   GET  /              HTML page: serving protocol, the whole environment, request headers, upload form
//   POST /upload        streams the body, replies with its byte count and SHA-256 (HTML or JSON)
//   GET  /bytes?n=N     streams N bytes of a deterministic pattern (byte i = i % 251)
//   GET  /environ.json  the environment as JSON
//   GET  /headers.json  the request headers as JSON
//   GET  /status/CODE   replies with that status
//   GET  /error         throws synchronously (the server should turn that into a 500)
//   GET  /slow?ms=N     replies "slow done" after N ms
//   GET  /push          a page whose Link: rel=preload headers name /static/style.css and /static/app.js:
//                       spry pushes them when they are in its cache (npm start loads examples/static)
//   GET  /static/…      served from spry's cache (`spry/cache`), 404 when not there
//
// HEAD works for every GET route: Node's ServerResponse drops the body of a HEAD response itself.

import { createHash } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { cacheNames, cache } from 'spry/cache';

/** What spry attaches to each request: the uWSGI/WSGI-style environment. */
type SpryRequest = IncomingMessage & { environ?: Record<string, string> };

const MAX_BYTES = 1024 ** 3;
const CHUNK = 64 * 1024;
const PATTERN_MOD = 251;
const MAX_SLOW_MS = 60_000;

/** Answers one request. Throws synchronously on GET /error, on purpose. */
export function testApp(req: IncomingMessage, res: ServerResponse): void {
  // An origin-form target goes after the origin: as a reference relative to it, `//x/a` would
  // name the host x (and `//` no URL at all).
  const target = req.url ?? '/';
  const url = new URL(target.startsWith('/') ? `http://localhost${target}` : target, 'http://localhost');
  const path = url.pathname;
  const method = req.method ?? 'GET';

  if (path === '/upload') {
    if (method !== 'POST' && method !== 'PUT') return sendText(res, 405, 'method not allowed\n', { allow: 'POST, PUT' });
    return upload(req, res, url);
  }
  if (path.startsWith('/static/') && (method === 'GET' || method === 'HEAD')) return staticFile(req as SpryRequest, res, path);
  const route = GET_ROUTES[path] ?? (path.startsWith('/status/') ? status : undefined);
  if (!route) return sendHtml(res, 404, page('404 Not Found', `<p>No route for <code>${escapeHtml(path)}</code>.</p><p><a href="/">Back to the index</a></p>`));
  if (method !== 'GET' && method !== 'HEAD') return sendText(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
  route(req as SpryRequest, res, url);
}

type Route = (req: SpryRequest, res: ServerResponse, url: URL) => void;

const GET_ROUTES: Record<string, Route> = {
  '/': index,
  '/environ.json': (req, res) => sendJson(res, 200, sortedEnviron(req)),
  '/headers.json': (req, res) => sendJson(res, 200, req.headers),
  // Which process served the request, and as whom (a master's workers drop root).
  '/process.json': (_req, res) =>
    sendJson(res, 200, { pid: process.pid, uid: process.getuid?.(), euid: process.geteuid?.(), gid: process.getgid?.(), egid: process.getegid?.(), groups: process.getgroups?.() }),
  '/bytes': bytes,
  '/error': () => {
    throw new Error('testapp: deliberate error from /error');
  },
  '/slow': slow,
  '/push': pushPage,
};

function pushPage(_req: SpryRequest, res: ServerResponse): void {
  res.setHeader('link', '</static/style.css>; rel=preload; as=style, </static/app.js>; rel=preload; as=script');
  sendHtml(res, 200, `<!doctype html><html><head><title>push</title><link rel="stylesheet" href="/static/style.css"></head>
<body><h1>Server push</h1><p id="status">style.css and app.js not loaded (is spry running with a --cache2 holding /static?)</p>
<script src="/static/app.js"></script></body></html>`);
}

/** /static/…: whatever spry's default cache holds under that path. */
function staticFile(req: SpryRequest, res: ServerResponse, path: string): void {
  const entry = cacheNames().length > 0 ? cache().getEntry(path) : undefined;
  if (entry === undefined) return sendText(res, 404, 'not in the cache\n');
  res.writeHead(200, { 'content-type': entry.contentType, 'content-length': entry.value.length });
  res.end(req.method === 'HEAD' ? undefined : entry.value);
}

function index(req: SpryRequest, res: ServerResponse): void {
  const env = sortedEnviron(req);
  const envRows = Object.entries(env)
    .map(([k, v]) => `<tr><th data-key="${escapeHtml(k)}">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('\n');
  const headerRows: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    headerRows.push(`<tr><th>${escapeHtml(req.rawHeaders[i])}</th><td>${escapeHtml(req.rawHeaders[i + 1])}</td></tr>`);
  }
  const body = `<p class="proto">Served over <strong id="protocol">${escapeHtml(protocolLabel(env))}</strong></p>
<h2>Upload</h2>
<form method="post" action="/upload" enctype="multipart/form-data">
<p><label>File <input type="file" name="file"></label></p>
<p><label>Text <input type="text" name="text"></label></p>
<p><button type="submit">Upload</button></p>
</form>
<p>The reply shows the body's size and SHA-256; see <a href="/upload">/upload</a> (POST or PUT only).</p>
<h2>Request headers</h2>
<table id="headers">
${headerRows.join('\n')}
</table>
<h2>Environment</h2>
<table id="environ">
${envRows}
</table>`;
  sendHtml(res, 200, page('spry test app', body));
}

/** Which protocol served the request, as the environment tells it. */
function protocolLabel(env: Record<string, string>): string {
  if (env.SPDY === 'on') return `SPDY/${env['SPDY.version']} (stream ${env['SPDY.stream']})`;
  if (env.HTTP2 === 'on') return `HTTP/2 (stream ${env['HTTP2.stream']})`;
  return env.SERVER_PROTOCOL ?? 'unknown';
}

/** Hashes the body chunk by chunk as it arrives (never buffering it whole). */
function upload(req: IncomingMessage, res: ServerResponse, url: URL): void {
  const hash = createHash('sha256');
  let count = 0;
  req.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    count += chunk.length;
  });
  req.on('error', () => res.destroy());
  req.on('end', () => {
    const sha256 = hash.digest('hex');
    if (url.searchParams.get('format') === 'json' || prefersJson(req.headers.accept)) {
      return sendJson(res, 200, { bytes: count, sha256 });
    }
    const contentType = req.headers['content-type'] ?? '(none)';
    sendHtml(res, 200, page('Upload received', `<table id="upload">
<tr><th data-key="content-type">Content-Type</th><td>${escapeHtml(contentType)}</td></tr>
<tr><th data-key="bytes">Bytes</th><td>${count}</td></tr>
<tr><th data-key="sha256">SHA-256</th><td><code>${sha256}</code></td></tr>
</table>
<p><a href="/">Back to the index</a></p>`));
  });
}

/** Streams n pattern bytes in 64 KiB chunks, waiting for 'drain' whenever write() says so. */
function bytes(req: SpryRequest, res: ServerResponse, url: URL): void {
  const raw = url.searchParams.get('n') ?? '';
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > MAX_BYTES) {
    return sendText(res, 400, `n must be an integer from 0 to ${MAX_BYTES}\n`);
  }
  const n = Number(raw);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
  if (req.method === 'HEAD') return void res.end();

  // One pattern period longer than a chunk, so any chunk is a slice starting at (offset % 251).
  const pattern = Buffer.alloc(CHUNK + PATTERN_MOD);
  for (let i = 0; i < pattern.length; i++) pattern[i] = i % PATTERN_MOD;

  let sent = 0;
  const pump = (): void => {
    while (sent < n) {
      if (res.destroyed) return;
      const len = Math.min(CHUNK, n - sent);
      const start = sent % PATTERN_MOD;
      sent += len;
      if (!res.write(pattern.subarray(start, start + len))) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

function status(_req: SpryRequest, res: ServerResponse, url: URL): void {
  const raw = url.pathname.slice('/status/'.length);
  const code = /^\d{3}$/.test(raw) ? Number(raw) : NaN;
  // 1xx are interim responses and can't be the final status.
  if (!(code >= 200 && code <= 599)) return sendText(res, 400, 'status must be 200-599\n');
  if (code === 204 || code === 304) {
    res.writeHead(code);
    return void res.end();
  }
  sendText(res, code, `${code} ${STATUS_CODES[code] ?? 'Status'}\n`);
}

function slow(_req: SpryRequest, res: ServerResponse, url: URL): void {
  const raw = url.searchParams.get('ms') ?? '0';
  if (!/^\d{1,9}$/.test(raw)) return sendText(res, 400, 'ms must be a non-negative integer\n');
  const ms = Math.min(Number(raw), MAX_SLOW_MS);
  const timer = setTimeout(() => sendText(res, 200, 'slow done\n'), ms);
  res.once('close', () => clearTimeout(timer)); // client went away: don't keep the timer
}

/** spry's environment, or, under a plain Node server, a minimal one built from the request. */
function sortedEnviron(req: SpryRequest): Record<string, string> {
  const env = req.environ ?? fallbackEnviron(req);
  return Object.fromEntries(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function fallbackEnviron(req: IncomingMessage): Record<string, string> {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const rawPath = q === -1 ? target : target.slice(0, q);
  let pathInfo = rawPath;
  try {
    pathInfo = decodeURIComponent(rawPath);
  } catch {
    // Malformed percent-encoding: keep the raw path.
  }
  const socket = req.socket;
  const secure = (socket as Partial<TLSSocket>).encrypted === true;
  const [serverName, serverPort] = splitHost(req.headers.host, socket.localAddress ?? '', socket.localPort);
  const env: Record<string, string> = {
    REQUEST_METHOD: req.method ?? 'GET',
    REQUEST_URI: target,
    SCRIPT_NAME: '',
    PATH_INFO: pathInfo,
    QUERY_STRING: q === -1 ? '' : target.slice(q + 1),
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    SERVER_NAME: serverName,
    SERVER_PORT: serverPort,
    REMOTE_ADDR: socket.remoteAddress ?? '',
    REMOTE_PORT: String(socket.remotePort ?? ''),
    HTTPS: secure ? 'on' : 'off',
    'wsgi.url_scheme': secure ? 'https' : 'http',
  };
  if (req.headers['content-type'] !== undefined) env.CONTENT_TYPE = req.headers['content-type'];
  if (req.headers['content-length'] !== undefined) env.CONTENT_LENGTH = req.headers['content-length'];
  for (const [name, value] of Object.entries(req.headersDistinct)) {
    if (name === 'content-type' || name === 'content-length' || value === undefined) continue;
    env[`HTTP_${name.toUpperCase().replace(/-/g, '_')}`] = value.join(name === 'cookie' ? '; ' : ', ');
  }
  return env;
}

function splitHost(host: string | undefined, fallbackName: string, fallbackPort: number | undefined): [string, string] {
  const m = host ? /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host) : null;
  if (m) return [m[1], m[2] ?? String(fallbackPort ?? '')];
  return [fallbackName, String(fallbackPort ?? '')];
}

/** True when the Accept header ranks application/json above text/html. */
function prefersJson(accept: string | undefined): boolean {
  if (!accept) return false;
  const json = quality(accept, 'application/json');
  return json > 0 && json > quality(accept, 'text/html');
}

/** The q-value Accept gives a media type, from its most specific matching range. */
function quality(accept: string, type: string): number {
  let best = -1;
  let q = 0;
  for (const part of accept.split(',')) {
    const [range, ...params] = part.trim().toLowerCase().split(';');
    const specificity = range === type ? 2 : range === `${type.split('/')[0]}/*` ? 1 : range === '*/*' ? 0 : -1;
    if (specificity <= best) continue;
    best = specificity;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qParam ? Number(qParam.slice(2)) : 1;
    q = Number.isFinite(value) ? value : 0;
  }
  return q;
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { color: #2a5d84; border-bottom: 2px solid #2a5d84; }
.proto { font-size: 1.2em; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { text-align: left; vertical-align: top; padding: 0.2em 0.5em; border-bottom: 1px solid #ddd; }
th { width: 30%; font-family: monospace; }
td { font-family: monospace; word-break: break-all; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

function sendHtml(res: ServerResponse, code: number, html: string): void {
  send(res, code, 'text/html; charset=utf-8', html);
}

function sendJson(res: ServerResponse, code: number, value: unknown): void {
  send(res, code, 'application/json', `${JSON.stringify(value)}\n`);
}

function sendText(res: ServerResponse, code: number, text: string, headers: Record<string, string> = {}): void {
  send(res, code, 'text/plain; charset=utf-8', text, headers);
}

function send(res: ServerResponse, code: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, { ...headers, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
