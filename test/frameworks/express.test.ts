// A real Express 5 app, unchanged, on every protocol: its router, express.json(), res.json,
// res.set with several values, res.sendFile (with a Range request), its default error handler
// for a throwing and a rejecting route, and req.protocol / req.secure over TLS.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import express, { type Request, type Response } from 'express';
import { appFromExport } from '../../src/apps/load-module.ts';
import { headerValue, headerValues } from '../helpers/protocol-clients.ts';
import { jsonBody, onEveryProtocol } from './harness.ts';

const GREETING_PATH = fileURLToPath(new URL('./fixtures/greeting.txt', import.meta.url));
const GREETING = readFileSync(GREETING_PATH, 'utf8');

const app = express();
// 'test' keeps the error handler from logging each deliberate error (the page still shows it).
app.set('env', 'test');
app.use(express.json());
app.get('/users/:id', (req: Request, res: Response) => {
  res.json({ id: req.params.id, tab: req.query.tab ?? null });
});
app.post('/users', (req: Request, res: Response) => {
  res.status(201).json({ created: req.body, contentType: req.get('content-type') });
});
app.get('/multi', (_req: Request, res: Response) => {
  res.set('x-values', ['one', 'two']);
  res.set('set-cookie', ['a=1; Path=/', 'b=2; Path=/; Secure']);
  res.send('multi');
});
app.get('/greeting.txt', (_req: Request, res: Response) => {
  res.sendFile(GREETING_PATH);
});
app.get('/throws', () => {
  throw new Error('express route threw on purpose');
});
app.get('/rejects', async () => {
  throw new Error('express route rejected on purpose');
});
app.get('/secure', (req: Request, res: Response) => {
  res.json({ protocol: req.protocol, secure: req.secure });
});

it('is taken for a Node listener', () => {
  assert.equal(appFromExport(app, 'express').style, 'node-listener');
});

onEveryProtocol('Express 5', app, (client) => {
  it('routes with params and query, and answers with res.json', async () => {
    const response = await client().request({ path: '/users/42?tab=posts' });
    assert.equal(response.status, 200);
    assert.match(headerValue(response.headers, 'content-type') ?? '', /^application\/json; charset=utf-8$/);
    assert.equal(response.body.toString(), '{"id":"42","tab":"posts"}');
  });

  it('parses a JSON POST with express.json() and answers 201', async () => {
    const response = await client().request({ method: 'POST', path: '/users', ...jsonBody({ name: 'Ada', tags: ['math', 'engines'] }) });
    assert.equal(response.status, 201);
    assert.deepEqual(JSON.parse(response.body.toString()), { created: { name: 'Ada', tags: ['math', 'engines'] }, contentType: 'application/json' });
  });

  it('sends every value given to res.set, each set-cookie separate', async () => {
    const response = await client().request({ path: '/multi' });
    assert.equal(response.status, 200);
    assert.equal(response.body.toString(), 'multi');
    assert.equal(headerValue(response.headers, 'x-values'), 'one, two');
    assert.deepEqual(headerValues(response.headers, 'set-cookie'), ['a=1; Path=/', 'b=2; Path=/; Secure']);
  });

  it('sends a file with res.sendFile, whole and as a byte range', async () => {
    const whole = await client().request({ path: '/greeting.txt' });
    assert.equal(whole.status, 200);
    assert.equal(whole.body.toString(), GREETING);
    assert.equal(headerValue(whole.headers, 'content-length'), String(Buffer.byteLength(GREETING)));
    assert.equal(headerValue(whole.headers, 'content-type'), 'text/plain; charset=utf-8');
    assert.ok(headerValue(whole.headers, 'etag'), 'an etag');

    const range = await client().request({ path: '/greeting.txt', headers: [['range', 'bytes=0-4']] });
    assert.equal(range.status, 206);
    assert.equal(range.body.toString(), 'Hello');
    assert.equal(headerValue(range.headers, 'content-range'), `bytes 0-4/${Buffer.byteLength(GREETING)}`);
  });

  it("turns a throwing and a rejecting route into 500 through Express's error handler", async () => {
    const [thrown, rejected] = await Promise.all([client().request({ path: '/throws' }), client().request({ path: '/rejects' })]);
    assert.equal(thrown.status, 500);
    assert.match(headerValue(thrown.headers, 'content-type') ?? '', /^text\/html/);
    assert.match(thrown.body.toString(), /Error: express route threw on purpose/);
    assert.equal(rejected.status, 500);
    assert.match(rejected.body.toString(), /Error: express route rejected on purpose/);
    const after = await client().request({ path: '/users/7' });
    assert.equal(after.body.toString(), '{"id":"7","tab":null}');
  });

  it('answers an unknown route with its 404 page', async () => {
    const response = await client().request({ path: '/nowhere' });
    assert.equal(response.status, 404);
    assert.match(response.body.toString(), /Cannot GET \/nowhere/);
  });

  it("sees req.protocol 'https' and req.secure", async () => {
    const response = await client().request({ path: '/secure' });
    assert.equal(response.body.toString(), '{"protocol":"https","secure":true}');
  });
});
