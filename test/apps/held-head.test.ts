// When a Node listener's response head goes out on an h2 stream, frame by frame (a raw h2 peer
// over TLS against a real spry listener): with its whole body when the app ends the response in
// the tick it decided the head in, at that tick's end when it does not, and a head node:http2
// refuses once writeHead() has returned resets the stream (src/apps/stream-socket.ts).

import assert from 'node:assert/strict';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { RawH2Peer } from '../helpers/raw-h2-peer.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const NGHTTP2_INTERNAL_ERROR = 2;

/** Released by the test once it has seen the head of /late's response. */
let releaseLate: () => void = () => {};

const app = ((req: IncomingMessage, res: ServerResponse) => {
  switch (req.url) {
    case '/write-head-then-end':
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('twelve bytes');
      return;
    case '/end-whole':
      res.end('twelve bytes');
      return;
    case '/end-empty':
      res.end();
      return;
    case '/no-content':
      res.writeHead(204);
      res.end();
      return;
    case '/late':
      res.writeHead(200, { 'content-type': 'text/plain' });
      releaseLate = () => res.end('late body');
      return;
    case '/streamed':
      res.writeHead(200);
      res.write('one, ');
      res.write('two, ');
      setImmediate(() => res.end('three'));
      return;
    case '/status-700':
      res.writeHead(700);
      setImmediate(() => res.end('never'));
      return;
    default:
      res.writeHead(404);
      res.end();
  }
}) as RequestListener;

let server: TestServer;
let peer: RawH2Peer;
let nextStreamId = 1;

before(async () => {
  server = await startTestServer({ app });
  peer = await RawH2Peer.connect(server.port);
});

after(async () => {
  peer?.close();
  await server?.close();
});

/** Asks for `path` on a new stream of the one connection; the stream's id. */
function ask(path: string): number {
  const streamId = nextStreamId;
  nextStreamId += 2;
  peer.request(streamId, [[':method', 'GET'], [':scheme', 'https'], [':path', path], [':authority', `127.0.0.1:${server.port}`]]);
  return streamId;
}

/** A stream's first frame and the body bytes its DATA frames carried. */
function shape(frames: readonly string[]): { first: string | undefined; dataBytes: number } {
  const dataBytes = frames.filter((frame) => frame.startsWith('DATA ')).reduce((sum, frame) => sum + Number(frame.split(' ')[1]), 0);
  return { first: frames[0], dataBytes };
}

describe("a Node listener's response head on h2", () => {
  test('writeHead() then end(body) goes out as HEADERS and one DATA frame that ends the stream, with no empty frame after it', async () => {
    assert.deepEqual(await peer.framesToEnd(ask('/write-head-then-end')), ['HEADERS', 'DATA 12 END_STREAM']);
    assert.deepEqual(await peer.framesToEnd(ask('/end-whole')), ['HEADERS', 'DATA 12 END_STREAM']);
  });

  test('a response ended without a body is one HEADERS frame that ends the stream', async () => {
    assert.deepEqual(await peer.framesToEnd(ask('/end-empty')), ['HEADERS END_STREAM']);
    assert.deepEqual(await peer.framesToEnd(ask('/no-content')), ['HEADERS END_STREAM']);
  });

  test('a head whose response the app ends later goes out at once, before the body exists', async () => {
    const streamId = ask('/late');
    assert.deepEqual(await peer.outcome(streamId), { kind: 'response' }, 'the head arrived while the app still held the body');
    releaseLate();
    assert.deepEqual(shape(await peer.framesToEnd(streamId)), { first: 'HEADERS', dataBytes: 9 });
  });

  test('writes in the head\'s tick follow it, and the body ends in a later tick', async () => {
    assert.deepEqual(shape(await peer.framesToEnd(ask('/streamed'))), { first: 'HEADERS', dataBytes: 15 });
  });

  test('a status node:http2 refuses, found once writeHead() has returned, resets the stream with INTERNAL_ERROR and the connection serves on', async () => {
    assert.deepEqual(await peer.outcome(ask('/status-700')), { kind: 'reset', code: NGHTTP2_INTERNAL_ERROR });
    assert.deepEqual(await peer.framesToEnd(ask('/end-whole')), ['HEADERS', 'DATA 12 END_STREAM']);
  });
});
