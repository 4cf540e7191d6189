// Decides what to push with a response: the same-origin targets of its `Link: <…>; rel=preload`
// headers that are in the push cache, each once per connection (a client keeps what was pushed
// to it, so pushing it again only wastes its bandwidth). The protocols (SPDY's SYN_STREAM, h2's
// PUSH_PROMISE) do the sending; this file knows nothing of them.

import { findCache } from '../cache/registry.ts';
import type { FlatHeaders, PushSink, RequestHead } from '../exchange/exchange.ts';
import type { StaticFilesConfig } from '../static/static-config.ts';
import { findPushableFile, sendPushedFile } from '../static/static-push.ts';
import { preloadTargets } from './preload-links.ts';
import { countPlannedPush } from '../observe/counters.ts';

/** A resource to push: the request the client would have made, and the response. */
export interface PushedResource {
  /** Path and query, as the client would request it. */
  readonly path: string;
  readonly authority: string;
  readonly scheme: string;
  /** Further request headers the client would have sent (h2's PUSH_PROMISE carries them). */
  readonly requestHeaders?: FlatHeaders;
  readonly status: number;
  /** The response's headers: content-type, content-length, … */
  readonly headers: FlatHeaders;
  /** The whole body, sent at once; absent, the caller writes the body to the returned sink. */
  readonly body?: Buffer;
}

/** What a protocol's exchange offers the planner (and res.push). */
export interface Pushable {
  readonly head: RequestHead;
  /** Starts one push; undefined when the protocol cannot now (peer limits, push disabled, closing). */
  push(resource: PushedResource): PushSink | undefined;
}

/** Beyond this many links in one response the rest are left to the client to fetch. */
const MAX_PUSHES_PER_RESPONSE = 32;
/** Paths remembered per connection as already pushed. */
const PUSHED_MEMORY = 256;

export type PushPlanner = (exchange: Pushable, status: number, headers: FlatHeaders, pushed: Set<string>) => void;

/**
 * A planner pushing from cache `cacheName` (the default cache when undefined) and, for paths the
 * cache lacks, from the static mounts.
 */
export function createPushPlanner(cacheName: string | undefined, staticFiles?: StaticFilesConfig): PushPlanner {
  return (exchange, status, headers, pushed) => {
    const head = exchange.head;
    // Nothing a HEAD, an interim or an empty-by-definition response would make the client load.
    if (head.method === 'HEAD' || status < 200 || status === 204 || status === 304) return;
    let links: string[] | undefined;
    for (let i = 0; i < headers.length; i += 2) {
      if (headers[i].length === 4 && headers[i].toLowerCase() === 'link') (links ??= []).push(headers[i + 1]);
    }
    if (links === undefined) return;
    const cache = findCache(cacheName);
    if (cache === undefined && staticFiles === undefined) return;
    let count = 0;
    for (const target of preloadTargets(links)) {
      const path = sameOriginPath(target, head);
      if (path === undefined || pushed.has(path) || path === head.target) continue;
      const entry = cache?.getEntry(path);
      const file = entry === undefined && staticFiles !== undefined ? findPushableFile(staticFiles, path) : undefined;
      if (entry === undefined && file === undefined) continue;
      const started = exchange.push({
        path, authority: head.authority, scheme: head.scheme, status: 200,
        ...(entry !== undefined ? { headers: ['content-type', entry.contentType, 'content-length', String(entry.value.length)], body: entry.value } : { headers: file!.headers }),
      });
      countPlannedPush(started !== undefined);
      if (started === undefined) return;
      if (file !== undefined) sendPushedFile(file, started);
      remember(pushed, path);
      if (++count === MAX_PUSHES_PER_RESPONSE) return;
    }
  };
}

/** The path and query `target` names on the request's own origin, or undefined for another origin. */
function sameOriginPath(target: string, head: RequestHead): string | undefined {
  if (target.startsWith('/') && !target.startsWith('//')) return target;
  if (head.authority === '') return undefined;
  try {
    const base = `${head.scheme}://${head.authority}`;
    const url = new URL(target, base + (head.target.startsWith('/') ? head.target : '/'));
    return url.origin === new URL(base).origin ? url.pathname + url.search : undefined;
  } catch {
    return undefined;
  }
}

function remember(pushed: Set<string>, path: string): void {
  if (pushed.size >= PUSHED_MEMORY) pushed.delete(pushed.values().next().value!);
  pushed.add(path);
}
