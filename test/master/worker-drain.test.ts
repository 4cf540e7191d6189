// What a worker does with a connection it was handed just before the master told it to drain
// (a reload or a stop): the TLS handshake completes after the drain began, and the client's
// first request is already on its way. The worker may answer it, or refuse it in a way the
// protocol lets the client retry elsewhere (SPDY/h2 GOAWAY below its stream id, REFUSED_STREAM);
// closing the connection under it loses the request. Run in-process on the worker's own
// connection handler, so the timing is the same every run.

import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, before, describe, test } from 'node:test';
import { testApp } from '../../examples/testapp.ts';
import { appFromExport } from '../../src/apps/load-module.ts';
import { DEFAULTS } from '../../src/config/config.ts';
import type { ConnectionHandler } from '../../src/listen/connection-handler.ts';
import { createHandler, httpsPlan } from '../../src/listen/handlers.ts';
import { testCertificate } from '../helpers/server.ts';
import {
  connectH2,
  connectSpdy,
  h2Request,
  isRefusal,
  REQUEST_TIMEOUT_MS,
  spdyRequest,
  type Answer,
} from './clients.ts';
import { withTimeout } from './master-process.ts';

const GRACE_MS = 5_000;

interface DrainingHandler {
  readonly port: number;
  /** Resolves when the drain that began on the first connection has finished. */
  readonly drained: Promise<void>;
  /** Stops listening and cuts whatever connection is left. */
  close(): void;
}

/** A worker's --https2 handler on port 0 that starts draining as soon as its first connection is accepted. */
async function drainOnFirstConnection(): Promise<DrainingHandler> {
  const { cert, key } = await testCertificate();
  const plan = httpsPlan({ source: 'addr=127.0.0.1:0,spdy=1', addr: { kind: 'tcp', host: '127.0.0.1', port: 0 }, cert, key, selfSigned: true, spdy: true, h2: true,
    push: true, tuning: DEFAULTS.tuning });
  const handler: ConnectionHandler = createHandler(plan.spec, appFromExport(testApp, 'testApp'), 60_000);
  let startDrain: (() => void) | undefined;
  const drained = new Promise<void>((resolve) => (startDrain = () => void handler.drain(GRACE_MS).then(resolve)));
  // Registered after the handler's own listener: the connection is tracked, then the drain begins.
  handler.server.once('connection', () => startDrain!());
  await new Promise<void>((resolve) => handler.server.listen(0, '127.0.0.1', resolve));
  const sockets = new Set<Socket>();
  handler.server.on('connection', (socket: Socket) => sockets.add(socket));
  return {
    port: (handler.server.address() as AddressInfo).port,
    drained,
    close() {
      handler.server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** 'answered' or 'refused'; throws if the request was lost. */
async function outcome(request: () => Promise<Answer>): Promise<'answered' | 'refused'> {
  try {
    const answer = await request();
    assert.equal(answer.status, 200);
    return 'answered';
  } catch (error) {
    if (isRefusal(error)) return 'refused';
    throw new Error(`the request was lost, not answered or refused: ${(error as Error).message}`);
  }
}

describe('a worker handler drained while a connection is still in its TLS handshake', () => {
  let server: DrainingHandler;

  before(async () => {
    await testCertificate();
  });

  afterEach(() => server?.close());

  test('answers or cleanly refuses the first spdy/3.1 request on it', async (t) => {
    server = await drainOnFirstConnection();
    const client = await connectSpdy(server.port);
    try {
      t.diagnostic(await outcome(() => spdyRequest(client, '/process.json')));
    } finally {
      client.session.destroy();
    }
    await withTimeout(server.drained, GRACE_MS + 1_000, 'the drain');
  });

  test('answers or cleanly refuses the first h2 request on it', async (t) => {
    server = await drainOnFirstConnection();
    const session = await connectH2(server.port);
    try {
      t.diagnostic(await outcome(() => h2Request(session, '/process.json')));
    } finally {
      session.destroy();
    }
    await withTimeout(server.drained, GRACE_MS + 1_000, 'the drain');
  });

  test('answers the first HTTP/1.1 request on it (no ALPN), with Connection: close', async () => {
    server = await drainOnFirstConnection();
    const answer = await withTimeout(
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        httpsRequest({ host: '127.0.0.1', port: server.port, path: '/process.json', agent: false, rejectUnauthorized: false }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
        })
          .on('error', (error) => reject(new Error(`the request was lost: ${error.message}`)))
          .end();
      }),
      REQUEST_TIMEOUT_MS,
      'HTTP/1.1 /process.json',
    );
    assert.deepEqual(answer, { status: 200, connection: 'close' });
    await withTimeout(server.drained, GRACE_MS + 1_000, 'the drain');
  });
});
