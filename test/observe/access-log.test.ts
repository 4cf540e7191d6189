// The access log on every protocol and front end: one line per request, with the protocol as
// negotiated, the stream, the status and the sizes; --log-format lines exactly as formatted;
// JSON lines that parse whatever the client sent; reopening after logrotate; bad values refused.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { connect as http2Connect } from 'node:http2';
import { connect } from 'node:net';
import { rename } from 'node:fs/promises';
import { utimesSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { encodeUwsgiRequest } from '../../src/uwsgi/packet.ts';
import { connectClient, type ProtocolName } from '../helpers/protocol-clients.ts';
import { SPRY_NODE_ARGS, SPRY_ROOT } from '../helpers/spry-command.ts';
import { startSpry, TEST_APP_ARGS, type SpryProcess } from '../helpers/spry-process.ts';
import { freePort, plainRequest } from '../uwsgi/helpers.ts';
import { linesOf, tempDir } from './helpers.ts';

/** One GET over h2c with prior knowledge; the body. */
export async function h2cGet(port: number, path: string, headers: Record<string, string> = {}): Promise<Buffer> {
  const session = http2Connect(`http://127.0.0.1:${port}`);
  try {
    const stream = session.request({ ':path': path, ...headers });
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    await once(stream, 'end');
    return Buffer.concat(chunks);
  } finally {
    session.close();
  }
}

type JsonLine = { protocol: string; stream: number; status: number; rsize: number; method: string; uri: string; backend: string | null; uagent: string; referer: string; addr: string; wid: number; cl: number };

describe('the access log writes one line per request on every protocol', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let spry: SpryProcess;
  before(async () => {
    dir = await tempDir();
    spry = await startSpry(['--https2', 'addr=127.0.0.1:0,spdy=1', '--http', '127.0.0.1:0', ...TEST_APP_ARGS, '--logto', dir.file('access.log'), '--log-format', 'json']);
  });
  after(async () => {
    await spry.stop();
    await dir.remove();
  });

  test('h2, spdy/3.1, spdy/3, spdy/2 and http/1.1 over TLS, then http/1.1 and h2c in plain, each with its status and body size', async () => {
    const https = spry.listener('https');
    const expected: { protocol: string; stream: number; status: number; rsize: number; uri: string }[] = [];
    for (const protocol of ['h2', 'spdy/3.1', 'spdy/3', 'spdy/2', 'http/1.1'] as ProtocolName[]) {
      const client = await connectClient(protocol, https);
      const first = await client.request({ path: '/bytes?n=1234' });
      const second = await client.request({ path: '/status/404' });
      await client.close();
      assert.equal(first.body.length, 1234);
      const streams = protocol === 'http/1.1' ? [0, 0] : protocol === 'h2' ? [1, 3] : [1, 3];
      expected.push({ protocol, stream: streams[0], status: 200, rsize: 1234, uri: '/bytes?n=1234' });
      expected.push({ protocol, stream: streams[1], status: 404, rsize: second.body.length, uri: '/status/404' });
    }
    const http = spry.listener('http');
    const plain = await plainRequest(http.port, '/bytes?n=77');
    assert.equal(plain.status, 200);
    expected.push({ protocol: 'http/1.1', stream: 0, status: 200, rsize: 77, uri: '/bytes?n=77' });
    assert.equal((await h2cGet(http.port, '/bytes?n=5')).length, 5);
    expected.push({ protocol: 'h2c', stream: 1, status: 200, rsize: 5, uri: '/bytes?n=5' });
    const lines = (await linesOf(dir.file('access.log'), expected.length)).map((line) => JSON.parse(line) as JsonLine);
    assert.deepEqual(
      lines.map(({ protocol, stream, status, rsize, uri }) => ({ protocol, stream, status, rsize, uri })),
      expected,
    );
    assert.ok(lines.every((line) => line.method === 'GET' && line.addr === '127.0.0.1' && line.wid === 1 && line.backend === null));
  });
});
