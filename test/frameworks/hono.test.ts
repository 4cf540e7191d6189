// A real Hono app, unchanged, on every protocol: spry runs the app object's fetch with the
// uWSGI-style environment as its bindings, so c.env.SPDY and c.env['SPDY.version'] are there
// on SPDY (and HTTP2 on h2); route params, c.req.json(), c.json, c.text, and app.onError.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Hono } from 'hono';
import { appFromExport } from '../../src/apps/load-module.ts';
import { headerValue, headerValues } from '../helpers/protocol-clients.ts';
import { jsonBody, onEveryProtocol } from './harness.ts';

const app = new Hono<{ Bindings: Record<string, string | undefined> }>();
app.get('/users/:id/posts/:post', (c) => c.json({ user: c.req.param('id'), post: Number(c.req.param('post')), sort: c.req.query('sort') ?? null }));
app.post('/orders', async (c) => {
  const order = await c.req.json<{ items: string[] }>();
  return c.json({ accepted: order.items.length, first: order.items[0] }, 201);
});
app.get('/env', (c) =>
  c.json({
    spdy: c.env.SPDY ?? null,
    spdyVersion: c.env['SPDY.version'] ?? null,
    http2: c.env.HTTP2 ?? null,
    https: c.env.HTTPS ?? null,
    serverProtocol: c.env.SERVER_PROTOCOL,
  }),
);
app.get('/cookies', (c) => {
  c.header('set-cookie', 'x=1; Path=/', { append: true });
  c.header('set-cookie', 'y=2; Path=/', { append: true });
  return c.text('cookies set');
});
app.get('/fails', () => {
  throw new Error('hono handler failed on purpose');
});
app.onError((error, c) => c.text(`caught: ${error.message}`, 500));

it('is taken for a fetch handler (the app object has fetch)', () => {
  assert.equal(appFromExport(app, 'hono').style, 'fetch');
});

onEveryProtocol('Hono', app, (client, protocol) => {
  it('routes with params and query, and answers with c.json', async () => {
    const response = await client().request({ path: '/users/ada/posts/3?sort=new' });
    assert.equal(response.status, 200);
    assert.equal(headerValue(response.headers, 'content-type'), 'application/json');
    assert.equal(response.body.toString(), '{"user":"ada","post":3,"sort":"new"}');
  });

  it('reads a JSON POST with c.req.json()', async () => {
    const response = await client().request({ method: 'POST', path: '/orders', ...jsonBody({ items: ['tea', 'scones'] }) });
    assert.equal(response.status, 201);
    assert.equal(response.body.toString(), '{"accepted":2,"first":"tea"}');
  });

  it(`sees its protocol in c.env (${protocol})`, async () => {
    const response = await client().request({ path: '/env' });
    const spdyVersion = protocol.startsWith('spdy/') ? protocol.slice(5) : null;
    assert.deepEqual(JSON.parse(response.body.toString()), {
      spdy: spdyVersion === null ? null : 'on',
      spdyVersion,
      http2: protocol === 'h2' ? 'on' : null,
      https: 'on',
      serverProtocol: protocol === 'h2' ? 'HTTP/2.0' : 'HTTP/1.1',
    });
  });

  it('sends each appended set-cookie separately', async () => {
    const response = await client().request({ path: '/cookies' });
    assert.equal(response.body.toString(), 'cookies set');
    assert.deepEqual(headerValues(response.headers, 'set-cookie'), ['x=1; Path=/', 'y=2; Path=/']);
  });

  it('answers through app.onError when a handler throws, and an unknown route with 404', async () => {
    const failed = await client().request({ path: '/fails' });
    assert.deepEqual([failed.status, failed.body.toString()], [500, 'caught: hono handler failed on purpose']);
    const missing = await client().request({ path: '/missing' });
    assert.deepEqual([missing.status, missing.body.toString()], [404, '404 Not Found']);
  });
});
