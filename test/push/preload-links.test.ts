// What a response asks to have pushed: the Link header parser (preload-links.ts) on its own, and
// the planner (push-planner.ts) that turns its targets into pushes from the cache, driven with a
// fake exchange that records what it was asked to push.

import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { cache } from '../../src/cache/api.ts';
import { installLocalCaches } from '../../src/cache/registry.ts';
import type { CacheConfig } from '../../src/config/config.ts';
import type { FlatHeaders, PushSink, RequestHead } from '../../src/exchange/exchange.ts';
import { preloadTargets } from '../../src/push/preload-links.ts';
import { createPushPlanner, type PushedResource, type Pushable } from '../../src/push/push-planner.ts';

describe('preloadTargets (the Link header parser)', () => {
  it('returns the targets of several comma-separated links, in order', () => {
    assert.deepEqual(preloadTargets(['</a.css>; rel=preload; as=style, </b.js>; rel=preload; as=script, </c.png>; rel=preload']), ['/a.css', '/b.js', '/c.png']);
  });

  it('returns the targets of repeated Link headers, header after header', () => {
    assert.deepEqual(preloadTargets(['</a.css>; rel=preload', '</b.js>; rel=preload, </c.png>; rel=preload']), ['/a.css', '/b.js', '/c.png']);
  });

  it('accepts quoted parameter values', () => {
    assert.deepEqual(preloadTargets(['</a.css>; rel="preload"; as="style"']), ['/a.css']);
  });

  it('accepts rel="preload stylesheet" (a rel list naming preload among others)', () => {
    assert.deepEqual(preloadTargets(['</a.css>; rel="preload stylesheet"', '</b.css>; rel="stylesheet  preload"']), ['/a.css', '/b.css']);
  });

  it('matches rel and preload case-insensitively', () => {
    assert.deepEqual(preloadTargets(['</a.css>; REL=Preload']), ['/a.css']);
  });

  it('leaves out links marked nopush (as a parameter or in the rel list), keeping the others', () => {
    assert.deepEqual(
      preloadTargets(['</a.css>; rel=preload; nopush, </b.js>; rel=preload, </c.png>; rel="preload nopush", </d.png>; rel=preload; NoPush']),
      ['/b.js'],
    );
  });

  it('leaves out links without rel=preload (no rel, another rel, rel without a value)', () => {
    assert.deepEqual(preloadTargets(['</a.css>', '</b.css>; as=style', '</c.css>; rel=stylesheet', '</d.css>; rel', '</e.css>; rel=prefetch']), []);
  });

  it('does not split a link at a comma inside a quoted parameter', () => {
    assert.deepEqual(
      preloadTargets(['</a.css>; rel=preload; title="one, </evil.js>; rel=preload, two", </b.js>; rel=preload']),
      ['/a.css', '/b.js'],
    );
  });

  it('does not end a quoted parameter at an escaped quote', () => {
    assert.deepEqual(preloadTargets(['</a.css>; title="say \\", </evil.js>; rel=preload"; rel=preload, </b.js>; rel=preload']), ['/a.css', '/b.js']);
  });

  it('keeps a comma inside the <…> target', () => {
    assert.deepEqual(preloadTargets(['</fonts/a,b.woff2>; rel=preload; as=font']), ['/fonts/a,b.woff2']);
  });

  it('gives each link only its own parameters: rel=preload on one link does not mark the one before', () => {
    assert.deepEqual(preloadTargets(['</a.css>, </b.css>; rel=preload']), ['/b.css']);
  });

  it('returns absolute targets as written (the planner decides their origin)', () => {
    assert.deepEqual(preloadTargets(['<https://cdn.example/a.css>; rel=preload, <//cdn.example/b.css>; rel=preload']), ['https://cdn.example/a.css', '//cdn.example/b.css']);
  });

  it('returns nothing for no headers, an empty header or an unterminated <', () => {
    assert.deepEqual(preloadTargets([]), []);
    assert.deepEqual(preloadTargets(['']), []);
    assert.deepEqual(preloadTargets(['</a.css; rel=preload']), []);
  });
});

// ── the planner ──────────────────────────────────────────────────────────────

const body = (text: string) => Buffer.from(text);

const PLANNER_CACHE: CacheConfig = {
  name: 'assets',
  items: 64,
  blocksize: 1024,
  blocks: 64,
  keysize: 128,
  bitmap: false,
  purgeLru: true,
  preload: [
    { key: '/style.css', value: body('css'), contentType: 'text/css; charset=utf-8', file: 'style.css' },
    { key: '/app.js', value: body('js'), contentType: 'text/javascript; charset=utf-8', file: 'app.js' },
    { key: '/dir/rel.css', value: body('rel'), contentType: 'text/css; charset=utf-8', file: 'rel.css' },
    { key: '/style.css?v=2', value: body('css v2'), contentType: 'text/css; charset=utf-8', file: 'style2.css' },
    { key: '/page', value: body('the page itself'), contentType: 'text/html; charset=utf-8', file: 'page.html' },
    ...Array.from({ length: 40 }, (_, i) => ({ key: `/many/${i}.js`, value: body(String(i)), contentType: 'text/javascript; charset=utf-8', file: `${i}.js` })),
  ],
};
const SECOND_CACHE: CacheConfig = {
  name: 'second',
  items: 2,
  blocksize: 64,
  blocks: 2,
  keysize: 64,
  bitmap: false,
  purgeLru: true,
  preload: [{ key: '/second.css', value: body('second'), contentType: 'text/css; charset=utf-8', file: 'second.css' }],
};

function head(overrides: Partial<RequestHead> = {}): RequestHead {
  return {
    method: 'GET',
    target: '/page',
    authority: 'www.example:8443',
    scheme: 'https',
    httpVersion: '1.1',
    headers: [],
    connection: { remoteAddress: '127.0.0.1', remotePort: 50000, localAddress: '127.0.0.1', localPort: 8443, secure: true },
    protocol: { kind: 'h2', streamId: 1 },
    hasBody: false,
    ...overrides,
  };
}

/** What FakeExchange answers an accepted push with: the planner sends whole bodies, never writes. */
const ACCEPTED: PushSink = { write: () => true, end: () => {}, abort: () => {}, onDrain: null, onAbort: null };

/** An exchange that records what it is asked to push, accepting the first `accept` pushes. */
class FakeExchange implements Pushable {
  readonly head: RequestHead;
  readonly asked: PushedResource[] = [];
  private readonly accept: number;

  constructor(headOverrides: Partial<RequestHead> = {}, accept = Infinity) {
    this.head = head(headOverrides);
    this.accept = accept;
  }

  push(resource: PushedResource): PushSink | undefined {
    this.asked.push(resource);
    return this.asked.length <= this.accept ? ACCEPTED : undefined;
  }

  get paths(): string[] {
    return this.asked.map((resource) => resource.path);
  }
}

/** The paths `planner` pushes for a 200 (or `status`) response carrying `headers`. */
function plan(headers: FlatHeaders, options: { head?: Partial<RequestHead>; status?: number; pushed?: Set<string>; cache?: string } = {}): string[] {
  const exchange = new FakeExchange(options.head);
  createPushPlanner(options.cache)(exchange, options.status ?? 200, headers, options.pushed ?? new Set());
  return exchange.paths;
}

describe('createPushPlanner', () => {
  beforeEach(() => installLocalCaches([PLANNER_CACHE, SECOND_CACHE]));
  after(() => installLocalCaches([]));

  it('pushes cached same-origin targets with their bytes, content type, authority and scheme', () => {
    const exchange = new FakeExchange();
    createPushPlanner(undefined)(exchange, 200, ['link', '</style.css>; rel=preload, </app.js>; rel=preload'], new Set());
    assert.deepEqual(exchange.asked, [
      { path: '/style.css', authority: 'www.example:8443', scheme: 'https', status: 200, headers: ['content-type', 'text/css; charset=utf-8', 'content-length', '3'], body: body('css') },
      { path: '/app.js', authority: 'www.example:8443', scheme: 'https', status: 200, headers: ['content-type', 'text/javascript; charset=utf-8', 'content-length', '2'], body: body('js') },
    ]);
  });

  it('skips targets that are not in the cache', () => {
    assert.deepEqual(plan(['link', '</missing.png>; rel=preload, </style.css>; rel=preload, </nope.js>; rel=preload']), ['/style.css']);
  });

  it('reads every Link header, whatever the case of its name', () => {
    assert.deepEqual(plan(['Link', '</style.css>; rel=preload', 'content-type', 'text/html', 'LINK', '</app.js>; rel=preload']), ['/style.css', '/app.js']);
  });

  it('pushes an absolute URL on the request\'s own origin, by its path and query', () => {
    assert.deepEqual(plan(['link', '<https://www.example:8443/style.css>; rel=preload, <https://www.example:8443/style.css?v=2>; rel=preload']), ['/style.css', '/style.css?v=2']);
  });

  it('treats the default port as the same origin', () => {
    assert.deepEqual(plan(['link', '<https://www.example:443/style.css>; rel=preload'], { head: { authority: 'www.example' } }), ['/style.css']);
  });

  it('pushes a protocol-relative URL naming the request\'s own host', () => {
    assert.deepEqual(plan(['link', '<//www.example:8443/style.css>; rel=preload']), ['/style.css']);
  });

  it('does not push cross-origin URLs: another host, port or scheme, or protocol-relative elsewhere', () => {
    const links = [
      '<https://cdn.example/style.css>; rel=preload',
      '<https://www.example:9443/style.css>; rel=preload',
      '<http://www.example:8443/style.css>; rel=preload',
      '<//cdn.example/style.css>; rel=preload',
    ];
    assert.deepEqual(plan(['link', links.join(', ')]), []);
  });

  it('resolves a relative target against the request target', () => {
    assert.deepEqual(plan(['link', '<rel.css>; rel=preload'], { head: { target: '/dir/page?x=1' } }), ['/dir/rel.css']);
  });

  it('leaves out nopush links', () => {
    assert.deepEqual(plan(['link', '</style.css>; rel=preload; nopush, </app.js>; rel=preload']), ['/app.js']);
  });

  it('does not push the requested resource to itself', () => {
    assert.deepEqual(plan(['link', '</page>; rel=preload, </style.css>; rel=preload']), ['/style.css']);
  });

  it('pushes each path once per connection: paths in the connection\'s set are skipped, new ones added', () => {
    const pushed = new Set(['/style.css']);
    assert.deepEqual(plan(['link', '</style.css>; rel=preload, </app.js>; rel=preload'], { pushed }), ['/app.js']);
    assert.deepEqual([...pushed].sort(), ['/app.js', '/style.css']);
    assert.deepEqual(plan(['link', '</style.css>; rel=preload, </app.js>; rel=preload'], { pushed }), []);
  });

  it('pushes the same path once even when one response links it twice', () => {
    assert.deepEqual(plan(['link', '</style.css>; rel=preload, </style.css>; rel=preload', 'link', '<https://www.example:8443/style.css>; rel=preload']), ['/style.css']);
  });

  it('pushes at most 32 resources for one response', () => {
    const links = Array.from({ length: 40 }, (_, i) => `</many/${i}.js>; rel=preload`).join(', ');
    assert.deepEqual(plan(['link', links]), Array.from({ length: 32 }, (_, i) => `/many/${i}.js`));
  });

  it('stops at the first push the exchange refuses, and does not count it as pushed', () => {
    const exchange = new FakeExchange({}, 1);
    const pushed = new Set<string>();
    createPushPlanner(undefined)(exchange, 200, ['link', '</style.css>; rel=preload, </app.js>; rel=preload, </dir/rel.css>; rel=preload'], pushed);
    assert.deepEqual(exchange.paths, ['/style.css', '/app.js']);
    assert.deepEqual([...pushed], ['/style.css']);
  });

  it('pushes nothing for a HEAD request', () => {
    assert.deepEqual(plan(['link', '</style.css>; rel=preload'], { head: { method: 'HEAD' } }), []);
  });

  it('pushes nothing for 1xx, 204 and 304 responses', () => {
    for (const status of [100, 103, 204, 304]) assert.deepEqual(plan(['link', '</style.css>; rel=preload'], { status }), [], `status ${status}`);
  });

  it('pushes from the named cache (push-cache=), and from the first cache by default', () => {
    const links = ['link', '</style.css>; rel=preload, </second.css>; rel=preload'];
    assert.deepEqual(plan(links, { cache: 'second' }), ['/second.css']);
    assert.deepEqual(plan(links), ['/style.css']);
  });

  it('pushes nothing when there is no cache', () => {
    installLocalCaches([]);
    assert.deepEqual(plan(['link', '</style.css>; rel=preload']), []);
  });

  it('pushes what the app put in the cache at runtime, once it is there', async () => {
    const links = ['link', '</later.css>; rel=preload'];
    assert.deepEqual(plan(links), []);
    await cache().set('/later.css', 'late', { contentType: 'text/css' });
    const exchange = new FakeExchange();
    createPushPlanner(undefined)(exchange, 200, links, new Set());
    assert.equal(exchange.asked.length, 1);
    assert.deepEqual(exchange.asked[0].headers, ['content-type', 'text/css', 'content-length', '4']);
    assert.deepEqual(exchange.asked[0].body, body('late'));
  });
});
