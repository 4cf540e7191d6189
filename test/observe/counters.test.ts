// What the stats count besides requests, over real sockets against a spry process: open
// connections by protocol (connections, not streams), protocol errors by stable code on SPDY, h2
// and HTTP/1.1, cache hits and misses, and the pushes the cache push planner makes.

import assert from 'node:assert/strict';
import { connect as connectHttp2, constants as http2Constants } from 'node:http2';
import { connect as connectTls } from 'node:tls';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connectClient } from '../helpers/protocol-clients.ts';
import { RawSpdyPeer } from '../helpers/raw-spdy-peer.ts';
import { startSpry, TEST_APP_ARGS } from '../helpers/spry-process.ts';
import { freePort } from '../uwsgi/helpers.ts';
import { readStats, statsWhen } from './helpers.ts';

const STYLE_FILE = fileURLToPath(new URL('../../examples/static/style.css', import.meta.url));

async function spryWithStats(extra: readonly string[] = []) {
  const statsPort = await freePort();
  const spry = await startSpry(['--https2', 'addr=127.0.0.1:0,spdy=1', ...TEST_APP_ARGS, '--disable-logging', '--stats', `127.0.0.1:${statsPort}`, ...extra]);
  return { spry, statsPort };
}

/** Sends raw bytes over TLS with ALPN http/1.1 and resolves with all the server answered. */
function rawHttp1(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => socket.write(bytes));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('the stats count connections by protocol, not streams', () => {
  test('two h2 connections with three requests each and one spdy/3.1 connection are 2 and 1 open, 0 once closed', async () => {
    const { spry, statsPort } = await spryWithStats();
    try {
      const clients = [await connectClient('h2', spry.listener('https')), await connectClient('h2', spry.listener('https')), await connectClient('spdy/3.1', spry.listener('https'))];
      for (const client of clients) for (let i = 0; i < 3; i++) await client.request({ path: '/status/200' });
      const open = await readStats(statsPort);
      assert.equal(open.protocols.h2.connections, 2);
      assert.equal(open.protocols['spdy/3.1'].connections, 1);
      assert.equal(open.protocols.h2.requests, 6);
      for (const client of clients) await client.close();
      const closed = await statsWhen(statsPort, (stats) => stats.protocols.h2.connections === 0 && stats.protocols['spdy/3.1'].connections === 0);
      assert.equal(closed.protocols.h2.connections, 0);
      assert.equal(closed.protocols['spdy/3.1'].connections, 0);
      assert.equal(closed.protocols.h2.connectionsTotal, 2);
      assert.equal(closed.protocols['spdy/3.1'].connectionsTotal, 1);
    } finally {
      await spry.stop();
    }
  });
});

describe('the stats count protocol errors by code', () => {
  test('SPDY/3.1: DATA on a stream never opened is one protocol error, under its code', async () => {
    const { spry, statsPort } = await spryWithStats();
    try {
      const peer = await RawSpdyPeer.connect(spry.listener('https').port, 'spdy/3.1');
      peer.write(peer.data(7, 'stray'));
      await peer.nextOfType('RST_STREAM', 7);
      const stats = await statsWhen(statsPort, (s) => Object.keys(s.protocols['spdy/3.1']?.errors ?? {}).length > 0);
      const errors = stats.protocols['spdy/3.1'].errors;
      assert.equal(Object.values(errors).reduce((sum, n) => sum + n, 0), 1, JSON.stringify(errors));
      assert.match(Object.keys(errors)[0], /^SPRY_ERR_/);
      peer.close();
    } finally {
      await spry.stop();
    }
  });

  test('h2: an authority whose port is not digits is refused with PROTOCOL_ERROR and counted as SPRY_ERR_BAD_AUTHORITY', async () => {
    const { spry, statsPort } = await spryWithStats();
    try {
      const session = connectHttp2(`https://127.0.0.1:${spry.listener('https').port}`, { rejectUnauthorized: false });
      const stream = session.request({ ':path': '/', ':authority': 'localhost:http' });
      stream.on('error', () => {});
      stream.resume();
      const code = await new Promise<number>((resolve) => stream.on('close', () => resolve(stream.rstCode ?? -1)));
      assert.equal(code, http2Constants.NGHTTP2_PROTOCOL_ERROR);
      session.close();
      const stats = await statsWhen(statsPort, (s) => s.protocols.h2?.errors.SPRY_ERR_BAD_AUTHORITY !== undefined);
      assert.deepEqual(stats.protocols.h2.errors, { SPRY_ERR_BAD_AUTHORITY: 1 });
    } finally {
      await spry.stop();
    }
  });

  test('HTTP/1.1: a 400 for a bad request target is counted under its code', async () => {
    const { spry, statsPort } = await spryWithStats();
    try {
      const answer = await rawHttp1(spry.listener('https').port, 'GET * HTTP/1.1\r\nhost: a\r\n\r\n');
      assert.match(answer, /^HTTP\/1\.1 400 /);
      const stats = await readStats(statsPort);
      assert.deepEqual(stats.protocols['http/1.1'].errors, { SPRY_ERR_BAD_TARGET: 1 });
    } finally {
      await spry.stop();
    }
  });
});

describe('the stats count cache reads and the push planner\'s pushes', () => {
  test('/push pushes style.css from the cache (a hit) and not app.js (a miss); the app\'s own reads count too', async () => {
    const { spry, statsPort } = await spryWithStats(['--cache2', 'name=assets,items=10', '--load-file-in-cache', `/static/style.css=${STYLE_FILE}`]);
    try {
      const session = connectHttp2(`https://127.0.0.1:${spry.listener('https').port}`, { rejectUnauthorized: false });
      const pushed: string[] = [];
      session.on('stream', (stream, headers) => {
        pushed.push(String(headers[':path']));
        stream.resume();
      });
      const get = (path: string): Promise<number> => new Promise((resolve, reject) => {
        const stream = session.request({ ':path': path });
        let status = 0;
        stream.on('response', (headers) => (status = Number(headers[':status'])));
        stream.on('error', reject);
        stream.resume();
        stream.on('end', () => resolve(status));
      });
      assert.equal(await get('/push'), 200);
      assert.equal(await get('/static/style.css'), 200);
      assert.equal(await get('/static/missing.css'), 404);
      session.close();
      assert.deepEqual(pushed, ['/static/style.css']);
      const stats = await readStats(statsPort);
      assert.deepEqual(stats.caches.assets, { hits: 2, misses: 2 });
      assert.deepEqual(stats.pushes, { sent: 1, refused: 0 });
    } finally {
      await spry.stop();
    }
  });
});
