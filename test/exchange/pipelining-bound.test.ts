// HTTP/1.1 pipelining is bounded as streams are (src/http1/pipelining.ts): one connection has at
// most spdy-max-streams requests served at once. node:http hands spry every pipelined request it
// parses and stops reading only once answered responses back up, so requests waiting on a slow
// backend were all in flight: one connection sending 2,000 made spry open ~2,000 backend
// connections at once. Here a backend takes a while over each answer, and one client pipelines
// 40 requests on one connection with the bound at 4.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { before, describe, test } from 'node:test';
import { listenOnLoopback, stepsAfterAll } from '../helpers/backend-server.ts';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';

const BOUND = 4;
const REQUESTS = 40;

let spry: SpryProcess;
let open = 0;
let mostOpen = 0;
const atEnd = stepsAfterAll();

before(async () => {
  const backend = createServer((req, res) => {
    open++;
    mostOpen = Math.max(mostOpen, open);
    // Each answer waits a little, so that a pipeline served all at once is all in flight together.
    setTimeout(() => {
      open--;
      res.end(`answer to ${req.url}\n`);
    }, 20);
  });
  const port = await listenOnLoopback(backend, atEnd);
  spry = await startSpry(['--http', '127.0.0.1:0', '--http-to', `http://127.0.0.1:${port}`, '--http-timeout', '10', '--spdy-max-streams', String(BOUND)]);
  atEnd(() => spry.stop());
});

describe('an HTTP/1.1 client that pipelines requests to a slow backend', { timeout: 30_000 }, () => {
  test(`has at most spdy-max-streams (${BOUND}) of them in flight at once, and gets every answer, in order`, async () => {
    const socket = connect(spry.listener('http').port, '127.0.0.1');
    try {
      let reply = '';
      socket.setEncoding('latin1');
      const answered = new Promise<void>((resolve, reject) => {
        socket.on('data', (chunk: string) => {
          reply += chunk;
          if ((reply.match(/answer to \/p\d+\n/g) ?? []).length === REQUESTS) resolve();
        });
        socket.once('close', () => reject(new Error(`closed after: ${reply.slice(-200)}`)));
      });
      let requests = '';
      for (let i = 0; i < REQUESTS; i++) requests += `GET /p${i} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
      socket.write(requests);
      await answered;
      assert.ok(mostOpen <= BOUND, `the backend had ${mostOpen} requests of the one connection at once`);
      assert.deepEqual(reply.match(/answer to \/p\d+/g), Array.from({ length: REQUESTS }, (_, i) => `answer to /p${i}`));
    } finally {
      socket.destroy();
    }
  });
});
