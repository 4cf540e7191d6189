// How long HTTP/1.1 keep-alive connections live. Closing a listener with them open (what a
// reload or shutdown does): an idle connection is closed at once; a request in flight gets its
// whole response, with Connection: close when its head is still to be sent, and its connection
// closes after it. --http-timeout spares a connection whose request still waits for its
// response. The waits are bounded by test timeouts, not measured.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { request, type RequestOptions } from 'node:https';
import type { Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { describe, test } from 'node:test';
import { startTestServer } from '../helpers/server.ts';

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
}

/**
 * A keep-alive GET on a connection of its own, outside any agent's pool: an agent would close an
 * idle socket itself (Node 24's by the server's Keep-Alive hint; Node 26's destroys a pooled
 * socket at the first byte or EOF the server sends, so the client never sees the server's FIN).
 */
function get(port: number, path: string): { answer: Promise<Answer>; socket: Promise<Socket> } {
  const options: RequestOptions = {
    host: '127.0.0.1',
    port,
    path,
    headers: { connection: 'keep-alive' },
    createConnection: (connection) => tlsConnect({ ...(connection as ConnectionOptions), rejectUnauthorized: false }),
  };
  let gotSocket!: (socket: Socket) => void;
  const socket = new Promise<Socket>((resolve) => (gotSocket = resolve));
  const answer = new Promise<Answer>((resolve, reject) => {
    const req = request(options, (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    });
    req.on('socket', (s) => gotSocket(s as Socket));
    req.on('error', reject);
    req.end();
  });
  return { answer, socket };
}

/** Resolves once the server has closed `socket` (the client saw its end). */
function closedByServer(socket: Socket): Promise<void> {
  if (socket.destroyed || socket.readableEnded) return Promise.resolve();
  return once(socket, 'end').then(() => undefined);
}

describe('closing an HTTP/1.1 listener', { timeout: 20_000 }, () => {
  test('closes idle keep-alive connections at once, and a busy one after its response (Connection: close when its head was not sent yet)', async () => {
    const held: { waiting: ServerResponse[]; headSent: ServerResponse[] } = { waiting: [], headSent: [] };
    const arrived: Array<() => void> = [];
    const app = ((req: IncomingMessage, res: ServerResponse) => {
      if (req.url === '/slow') held.waiting.push(res);
      else if (req.url === '/slow-head') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('head sent, ');
        held.headSent.push(res);
      } else {
        res.end('quick');
        return;
      }
      arrived.shift()?.();
    }) as RequestListener;
    const server = await startTestServer({ app, spdy: false, h2: false });
    // One idle connection: a quick request, then nothing.
    const quick = get(server.port, '/quick');
    const idle = await quick.answer;
    assert.deepEqual([idle.status, idle.connection, idle.body], [200, 'keep-alive', 'quick']);
    const idleClosed = closedByServer(await quick.socket);

    // Two busy ones: a response not started, and one whose head and first bytes went out.
    const bothArrived = new Promise<void>((resolve) => {
      let count = 0;
      const one = (): void => {
        if (++count === 2) resolve();
      };
      arrived.push(one, one);
    });
    const waiting = get(server.port, '/slow');
    const headSent = get(server.port, '/slow-head');
    await bothArrived;

    const closed = server.listener.close(10_000);
    await idleClosed;

    held.waiting[0].end('finished after close');
    held.headSent[0].end('and the rest');
    const [waitingAnswer, headSentAnswer] = await Promise.all([waiting.answer, headSent.answer]);
    assert.deepEqual([waitingAnswer.status, waitingAnswer.connection, waitingAnswer.body], [200, 'close', 'finished after close']);
    assert.deepEqual([headSentAnswer.status, headSentAnswer.body], [200, 'head sent, and the rest']);
    await Promise.all([closedByServer(await waiting.socket), closedByServer(await headSent.socket)]);
    await closed;
  });
});

describe('--http-timeout on HTTP/1.1', { timeout: 20_000 }, () => {
  test('does not cut a connection whose request waits longer than the timeout for its response', async () => {
    const app = ((_req: IncomingMessage, res: ServerResponse) => {
      setTimeout(() => res.end('late but whole'), 2_500);
    }) as RequestListener;
    const server = await startTestServer({ app, spdy: false, h2: false, httpTimeoutMs: 1_000 });
    try {
      const slow = get(server.port, '/');
      const answer = await slow.answer;
      assert.deepEqual([answer.status, answer.body], [200, 'late but whole']);
      // Idle afterwards: now the timeout closes it.
      await closedByServer(await slow.socket);
    } finally {
      await server.close();
    }
  });
});
