// RST_STREAM from the client ends that stream only (SPEC "SPDY behaviour"): the app sees an
// aborted request, the server sends nothing more on the stream and never answers the RST with
// an RST (docs/spdy-protocol.md §8), and the connection goes on serving.

import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { RawSpdyPeer, eventually, sleep } from '../helpers/raw-spdy-peer.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const CANCEL = 5;
const TICK_MS = 25;

/** What the app saw of each /drip request, by the test's tag. */
const seen = new Map<string, string[]>();

/**
 * /drip?tag=T writes a line every TICK_MS for 10 s, recording what happens to it; /sink?tag=T
 * reads its request body, recording the same; / says ok.
 */
function dripApp(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/sink') {
    const events: string[] = [];
    seen.set(url.searchParams.get('tag') ?? '', events);
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      if (bytes === 0) events.push('body started');
      bytes += chunk.length;
    });
    req.on('end', () => {
      events.push(`body ended after ${bytes}`);
      res.end(`${bytes}\n`);
    });
    req.on('error', () => events.push('req error'));
    req.on('aborted', () => events.push('req aborted'));
    res.on('close', () => events.push(res.writableFinished ? 'res finished' : 'res closed early'));
    return;
  }
  if (url.pathname === '/late') {
    // Answers only once the client has reset the stream.
    const events: string[] = [];
    seen.set(url.searchParams.get('tag') ?? '', events);
    res.on('close', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('too late\n');
      events.push('answered after close');
    });
    return;
  }
  if (url.pathname !== '/drip') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
    return;
  }
  const events: string[] = [];
  seen.set(url.searchParams.get('tag') ?? '', events);
  res.writeHead(200, { 'content-type': 'text/plain' });
  let n = 0;
  const timer = setInterval(() => {
    if (++n > 10_000 / TICK_MS) {
      clearInterval(timer);
      res.end('done\n');
    } else {
      res.write(`tick ${n}\n`);
    }
  }, TICK_MS);
  req.on('aborted', () => events.push('req aborted'));
  req.on('close', () => events.push('req close'));
  res.on('close', () => {
    clearInterval(timer);
    events.push(res.writableFinished ? 'res finished' : 'res closed early');
  });
}

let server: TestServer;
before(async () => {
  server = await startTestServer({ app: dripApp });
});
after(() => server.close());

for (const alpn of ['spdy/2', 'spdy/3', 'spdy/3.1'] as const) {
  describe(`RST_STREAM from the client on ${alpn}`, () => {
    it('aborts the request the app is serving, stops its DATA, and the connection serves a new request', async () => {
      const tag = `${alpn}-a`;
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        peer.write(peer.request(1, `/drip?tag=${tag}`));
        await peer.until(() => peer.framesOf('DATA', 1).length >= 2, 3000, 'two DATA frames on stream 1');
        peer.write(peer.rst(1, CANCEL));
        const events = () => seen.get(tag) ?? [];
        await eventually(() => events().includes('res closed early'), 3000, () => `the app to see its response closed (it saw: ${events().join(', ')})`);
        // Wait for the app's view to settle (req events follow on the next tick).
        await sleep(50);
        assert.ok(events().includes('req aborted'), `the request did not see an abort: ${events().join(', ')}`);
        assert.ok(!events().includes('res finished'));

        // Anything already on the wire when the RST arrived has landed by now; after that, nothing.
        await sleep(150);
        const framesOnStream = peer.frames.filter((frame) => 'streamId' in frame && frame.streamId === 1).length;
        await sleep(6 * TICK_MS);
        assert.equal(peer.frames.filter((frame) => 'streamId' in frame && frame.streamId === 1).length, framesOnStream, `frames on stream 1 after its RST: ${peer.describe(8)}`);
        assert.deepEqual(peer.framesOf('RST_STREAM'), [], 'an RST_STREAM must never be answered with an RST_STREAM');

        peer.write(peer.request(3, '/'));
        const response = await peer.response(3);
        assert.equal(response.status, 200);
        assert.equal(response.body.toString(), 'ok\n');
        assert.equal(peer.isClosed, false);
        assert.deepEqual(peer.framesOf('GOAWAY'), []);
      } finally {
        peer.close();
      }
    });

    it('sends nothing for an app that answers after the reset, and goes on serving', async () => {
      const tag = `${alpn}-late`;
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        peer.write(peer.request(1, `/late?tag=${tag}`));
        await eventually(() => seen.has(tag), 3000, () => 'the app to get the request');
        peer.write(peer.rst(1, CANCEL));
        await eventually(() => (seen.get(tag) ?? []).includes('answered after close'), 3000, () => 'the app to answer after the reset');
        peer.write(peer.request(3, '/'));
        const response = await peer.response(3);
        assert.equal(response.body.toString(), 'ok\n');
        assert.deepEqual(peer.frames.filter((frame) => 'streamId' in frame && frame.streamId === 1), [], `frames on the reset stream: ${peer.describe(8)}`);
        assert.deepEqual(peer.framesOf('GOAWAY'), []);
      } finally {
        peer.close();
      }
    });

    it('aborts an upload the app is reading: the request ends in an abort, never a normal end', async () => {
      const tag = `${alpn}-upload`;
      const peer = await RawSpdyPeer.connect(server.port, alpn);
      try {
        peer.write(peer.request(1, `/sink?tag=${tag}`, { method: 'POST', fin: false }), peer.data(1, Buffer.alloc(10_000, 7)));
        const events = () => seen.get(tag) ?? [];
        await eventually(() => events().includes('body started'), 3000, () => `the app to start reading (it saw: ${events().join(', ')})`);
        peer.write(peer.rst(1, CANCEL));
        await eventually(() => events().includes('req aborted'), 3000, () => `the app to see the upload aborted (it saw: ${events().join(', ')})`);
        await sleep(50);
        assert.ok(!events().some((event) => event.startsWith('body ended')), `the app saw a normal end: ${events().join(', ')}`);
        assert.ok(events().includes('res closed early'));
        assert.deepEqual(peer.framesOf('SYN_REPLY', 1), []);
        assert.deepEqual(peer.framesOf('RST_STREAM'), []);

        peer.write(peer.request(3, '/'));
        assert.equal((await peer.response(3)).status, 200);
      } finally {
        peer.close();
      }
    });
  });
}
