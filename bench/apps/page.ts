// Scenario 7's app, as spry loads it (`--module ./bench/apps/page.ts:page`): a small HTML page
// whose response links its stylesheet, script and logo with `rel=preload`, and those three
// files too, so a client that is not pushed them fetches them from here. spry's cache holds the
// same files (`--load-file-in-cache /bench=bench/apps/assets`): pushed or fetched, the bytes
// and their Content-Type are the same.
//
//   GET /                  the page (text/html), Link: </bench/style.css>; rel=preload; as=style, …
//   GET /bench/NAME        bench/apps/assets/NAME

import type { IncomingMessage, ServerResponse } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { contentTypeFor } from '../../src/cache/content-type.ts';

export const ASSETS_DIR = new URL('./assets/', import.meta.url);
/** The URL path the assets live under, in the app and as keys of spry's cache. */
export const ASSETS_PATH = '/bench';

/** What the page links, in the order a browser would want them. */
export const PRELOADS: readonly { readonly path: string; readonly as: string }[] = [
  { path: `${ASSETS_PATH}/style.css`, as: 'style' },
  { path: `${ASSETS_PATH}/app.js`, as: 'script' },
  { path: `${ASSETS_PATH}/logo.svg`, as: 'image' },
];

const LINK = PRELOADS.map((preload) => `<${preload.path}>; rel=preload; as=${preload.as}`).join(', ');

const HTML = Buffer.from(`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>spry — figures</title>
  <link rel="stylesheet" href="${ASSETS_PATH}/style.css">
  <script src="${ASSETS_PATH}/app.js" defer></script>
</head>
<body>
  <header class="site-header">
    <a class="brand" href="/"><img src="${ASSETS_PATH}/logo.svg" alt="" width="32" height="32"> spry</a>
    <button class="nav-toggle" aria-expanded="false" aria-controls="nav">Menu</button>
    <ul class="nav" id="nav">
      <li><a href="/" aria-current="page">Figures</a></li>
      <li><a href="/docs/">Docs</a></li>
      <li><a href="/changes/">Changes</a></li>
    </ul>
  </header>
  <main>
    <section>
      <h1>Figures</h1>
      <p>Requests and latency per route, refreshed every 30 seconds. Updated <span data-updated>just now</span>.</p>
      <label><input type="checkbox" id="compact"> compact rows</label>
      <table class="figures" data-source="/api/figures">
        <thead><tr><th data-key="name">route</th><th data-key="requests">requests</th><th data-key="p50">p50</th><th data-key="p99">p99</th><th data-key="status">status</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
    <aside class="sidebar">
      <div class="card"><h3>About</h3><p>One TLS port: SPDY/3.1, h2 and HTTP/1.1, pushed from an in-memory cache.</p></div>
    </aside>
  </main>
  <footer class="site-footer">spry</footer>
</body>
</html>
`);

interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
}

const ASSETS = new Map<string, Asset>(
  readdirSync(ASSETS_DIR).map((name) => [`${ASSETS_PATH}/${name}`, { body: readFileSync(new URL(name, ASSETS_DIR)), contentType: contentTypeFor(name) }]),
);

export function page(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  if (url === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': HTML.length, link: LINK });
    res.end(HTML);
    return;
  }
  const asset = ASSETS.get(url);
  if (asset !== undefined) {
    res.writeHead(200, { 'content-type': asset.contentType, 'content-length': asset.body.length });
    res.end(asset.body);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 10 });
  res.end('not found\n');
}

export default page;
