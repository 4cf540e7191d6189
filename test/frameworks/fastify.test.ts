// A real Fastify 5 app, unchanged, on every protocol: spry takes the instance itself (its
// node:http server's request listener, once ready()), as --module and createServer do. Its
// router with params and querystring, JSON body parsing and serialisation, an onRequest hook,
// reply.header with several values, a streamed reply, its error handler for a throwing route,
// and request.protocol over TLS.

import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { it } from 'node:test';
import Fastify from 'fastify';
import { appFromExport } from '../../src/apps/load-module.ts';
import { headerValue, headerValues } from '../helpers/protocol-clients.ts';
import { jsonBody, onEveryProtocol } from './harness.ts';

const STREAM_PARTS = 32;
const STREAM_PART = 'f'.repeat(16 * 1024 - 1) + '\n';

const app = Fastify({ logger: false });
app.addHook('onRequest', async (request, reply) => {
  reply.header('x-hook', `saw ${request.method} ${request.url}`);
});
app.get<{ Params: { id: string }; Querystring: { tab?: string } }>('/users/:id', async (request) => ({ id: request.params.id, tab: request.query.tab ?? null, protocol: request.protocol }));
app.post('/users', async (request, reply) => {
  reply.code(201);
  return { created: request.body };
});
app.get('/multi', async (_request, reply) => {
  reply.header('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
  return 'multi';
});
app.get('/stream', async (_request, reply) => {
  reply.type('text/plain');
  return reply.send(Readable.from((function* () {
    for (let i = 0; i < STREAM_PARTS; i++) yield STREAM_PART;
  })()));
});
app.get('/throws', async () => {
  throw new Error('fastify route threw on purpose');
});

it('is taken as a Fastify instance: a Node listener served once ready()', () => {
  assert.equal(appFromExport(app, 'fastify').style, 'node-listener');
});

onEveryProtocol('Fastify', app, (client) => {
  it('routes with params and querystring, runs the onRequest hook, and sees https', async () => {
    const response = await client().request({ path: '/users/42?tab=posts' });
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.body.toString()), { id: '42', tab: 'posts', protocol: 'https' });
    assert.equal(headerValue(response.headers, 'x-hook'), 'saw GET /users/42?tab=posts');
    assert.match(headerValue(response.headers, 'content-type') ?? '', /^application\/json/);
  });

  it('parses a JSON body and answers 201', async () => {
    const { headers, body } = jsonBody({ name: 'ada' });
    const response = await client().request({ method: 'POST', path: '/users', headers, body });
    assert.equal(response.status, 201);
    assert.deepEqual(JSON.parse(response.body.toString()), { created: { name: 'ada' } });
  });

  it('sends repeated Set-Cookie headers separately', async () => {
    const response = await client().request({ path: '/multi' });
    assert.deepEqual(headerValues(response.headers, 'set-cookie'), ['a=1; Path=/', 'b=2; Path=/']);
  });

  it('streams a reply of many DATA frames whole', async () => {
    const response = await client().request({ path: '/stream' });
    assert.equal(response.body.toString(), STREAM_PART.repeat(STREAM_PARTS));
  });

  it("answers a throwing route with Fastify's own 500 JSON", async () => {
    const response = await client().request({ path: '/throws' });
    assert.equal(response.status, 500);
    assert.equal((JSON.parse(response.body.toString()) as { message: string }).message, 'fastify route threw on purpose');
  });
});
