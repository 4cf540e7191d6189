// What the in-process push tests share: the push cache (installed in this test process, as
// spry's server.ts installs --cache2 caches before it serves), the resources in it, and a spry
// listener serving the push fixture app.

import { readFileSync } from 'node:fs';
import { installLocalCaches } from '../../src/cache/registry.ts';
import type { CacheConfig } from '../../src/config/config.ts';
import pushApp from '../fixtures/push-app.ts';
import { startTestServer, type TestServer, type TestServerOptions } from '../helpers/server.ts';
import { xorshiftBytes } from '../helpers/xorshift-bytes.ts';

export const STYLE_CSS = readFileSync(new URL('../fixtures/push/style.css', import.meta.url));
export const APP_JS = readFileSync(new URL('../fixtures/push/app.js', import.meta.url));
/** Bigger than any flow-control window the tests open for it: its push cannot finish unasked. */
export const BIG_BIN = xorshiftBytes(100_000, 7);

export const STYLE_TYPE = 'text/css; charset=utf-8';
export const APP_JS_TYPE = 'text/javascript; charset=utf-8';
export const BIG_TYPE = 'application/x-big';

/** The cache pushes come from: the default (first) cache. */
export const ASSETS: CacheConfig = {
  name: 'assets',
  items: 10,
  blocksize: 128 * 1024,
  blocks: 10,
  keysize: 256,
  bitmap: false,
  purgeLru: true,
  preload: [
    { key: '/style.css', value: STYLE_CSS, contentType: STYLE_TYPE, file: 'style.css' },
    { key: '/app.js', value: APP_JS, contentType: APP_JS_TYPE, file: 'app.js' },
    { key: '/big.bin', value: BIG_BIN, contentType: BIG_TYPE, file: 'big.bin' },
  ],
};

/** A second cache holding only /other.css, for push-cache=. */
export const OTHER: CacheConfig = {
  name: 'other',
  items: 2,
  blocksize: 1024,
  blocks: 2,
  keysize: 64,
  bitmap: false,
  purgeLru: true,
  preload: [{ key: '/other.css', value: Buffer.from('p{}'), contentType: STYLE_TYPE, file: 'other.css' }],
};

/** What the cache holds for `path`, as push should send it. */
export const CACHED: Readonly<Record<string, { readonly body: Buffer; readonly contentType: string }>> = {
  '/style.css': { body: STYLE_CSS, contentType: STYLE_TYPE },
  '/app.js': { body: APP_JS, contentType: APP_JS_TYPE },
  '/big.bin': { body: BIG_BIN, contentType: BIG_TYPE },
};

/** Installs the caches in this process (idempotent). */
export function installPushCaches(): void {
  installLocalCaches([ASSETS, OTHER]);
}

/** A spry TLS listener (h2, SPDY, HTTP/1.1) serving the push fixture app, push on unless told. */
export function startPushServer(options: Omit<TestServerOptions, 'app'> = {}): Promise<TestServer> {
  installPushCaches();
  return startTestServer({ app: pushApp, ...options });
}

/** `/link?v=…` for a response carrying one Link header per value. */
export function linkPath(...values: string[]): string {
  return `/link?${values.map((value) => `v=${encodeURIComponent(value)}`).join('&')}`;
}

/** `</path>; rel=preload` */
export function preload(path: string): string {
  return `<${path}>; rel=preload`;
}
