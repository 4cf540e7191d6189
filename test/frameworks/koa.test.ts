// A real Koa app, unchanged (spry takes app.callback()), on every protocol: a middleware chain
// that runs down and back up, ctx.body as a string, as JSON and as a stream, reading the
// request body from ctx.req, ctx.throw through Koa's own error handling, and
// ctx.request.secure over TLS.

import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { it } from 'node:test';
import Koa, { type Context, type Next } from 'koa';
import { appFromExport } from '../../src/apps/load-module.ts';
import { headerValue } from '../helpers/protocol-clients.ts';
import { onEveryProtocol } from './harness.ts';

/** Large enough to take many DATA frames and several drains. */
const STREAM_PARTS = 64;
const STREAM_PART = 'x'.repeat(16 * 1024 - 1) + '\n';

const app = new Koa();
app.silent = true; // the deliberate 500 below would be logged otherwise
app.use(async (ctx: Context, next: Next) => {
  ctx.state.trail = ['outer'];
  await next();
  (ctx.state.trail as string[]).push('outer-after');
  ctx.set('x-trail', (ctx.state.trail as string[]).join(' > '));
});
app.use(async (ctx: Context, next: Next) => {
  (ctx.state.trail as string[]).push('inner');
  await next();
  (ctx.state.trail as string[]).push('inner-after');
});
app.use(async (ctx: Context) => {
  (ctx.state.trail as string[]).push('handler');
  switch (ctx.path) {
    case '/text':
      ctx.body = 'plain text from koa';
      return;
    case '/json':
      ctx.body = { framework: 'koa', list: [1, 2, 3], nested: { ok: true } };
      return;
    case '/stream':
      ctx.type = 'text/plain';
      ctx.body = Readable.from(
        (function* () {
          for (let i = 0; i < STREAM_PARTS; i++) yield STREAM_PART;
        })(),
      );
      return;
    case '/words': {
      if (ctx.method !== 'POST') ctx.throw(405, 'POST only');
      let text = '';
      for await (const chunk of ctx.req) text += String(chunk);
      ctx.body = { words: text.trim().split(/\s+/).length };
      return;
    }
    case '/teapot':
      ctx.throw(418, 'short and stout');
      return;
    case '/broken':
      throw new Error('koa middleware failed on purpose');
    case '/secure':
      ctx.body = { secure: ctx.request.secure, protocol: ctx.protocol };
      return;
  }
});

it('is taken for a Node listener through app.callback()', () => {
  assert.equal(appFromExport(app, 'koa').style, 'node-listener');
});

onEveryProtocol('Koa', app, (client) => {
  it('runs the middleware chain down and back up', async () => {
    const response = await client().request({ path: '/text' });
    assert.equal(headerValue(response.headers, 'x-trail'), 'outer > inner > handler > inner-after > outer-after');
  });

  it('sends ctx.body as a string', async () => {
    const response = await client().request({ path: '/text' });
    assert.equal(response.status, 200);
    assert.equal(headerValue(response.headers, 'content-type'), 'text/plain; charset=utf-8');
    assert.equal(response.body.toString(), 'plain text from koa');
  });

  it('sends ctx.body as JSON', async () => {
    const response = await client().request({ path: '/json' });
    assert.equal(response.status, 200);
    assert.equal(headerValue(response.headers, 'content-type'), 'application/json; charset=utf-8');
    assert.equal(response.body.toString(), '{"framework":"koa","list":[1,2,3],"nested":{"ok":true}}');
  });

  it('streams ctx.body from a Readable', async () => {
    const response = await client().request({ path: '/stream' });
    assert.equal(response.status, 200);
    assert.equal(headerValue(response.headers, 'content-type'), 'text/plain; charset=utf-8');
    assert.equal(response.body.toString(), STREAM_PART.repeat(STREAM_PARTS));
  });

  it('reads a request body from ctx.req', async () => {
    const response = await client().request({ method: 'POST', path: '/words', headers: [['content-type', 'text/plain']], body: Buffer.from('the quick brown fox jumps') });
    assert.equal(response.body.toString(), '{"words":5}');
  });

  it("answers ctx.throw(418) and a thrown error through Koa's error handling", async () => {
    const teapot = await client().request({ path: '/teapot' });
    assert.deepEqual([teapot.status, teapot.body.toString()], [418, 'short and stout']);
    const broken = await client().request({ path: '/broken' });
    assert.deepEqual([broken.status, broken.body.toString()], [500, 'Internal Server Error']);
  });

  it('sees ctx.request.secure', async () => {
    const response = await client().request({ path: '/secure' });
    assert.equal(response.body.toString(), '{"secure":true,"protocol":"https"}');
  });
});
