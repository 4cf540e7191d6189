// Interop with an independent SPDY implementation: the `spdy` npm package (node-spdy). Its
// Agent fetches the test app over each SPDY version and must see the SPDY variables; its
// spdy-transport layer is also driven directly in this process.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { findOldNode } from '../helpers/old-node.ts';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const transport = require('spdy-transport') as SpdyTransport;
const PROTOCOLS = ['spdy/3.1', 'spdy/3', 'spdy/2'] as const;

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

const oldNode = findOldNode();

describe("node-spdy's Agent", () => {
  for (const protocol of PROTOCOLS) {
    test(`fetches the test app over ${protocol} and sees the SPDY variables`, { skip: oldNode === undefined && 'node-spdy needs Node < 22 (process.binding(http_parser)); no such node on PATH' }, async () => {
      const script = new URL('./node-spdy-agent.cjs', import.meta.url).pathname;
      const { stdout } = await run(oldNode!, [script, String(server.port), protocol], { timeout: 30_000 });
      const seen = JSON.parse(stdout) as {
        environ: { status: number; body: Record<string, string> };
        download: { status: number; bytes: number; patternOk: boolean };
      };
      assert.equal(seen.environ.status, 200);
      assert.equal(seen.environ.body.SPDY, 'on');
      assert.equal(seen.environ.body['SPDY.version'], protocol.slice(5));
      assert.equal(Number(seen.environ.body['SPDY.stream']) % 2, 1);
      assert.equal(seen.environ.body.HTTPS, 'on');
      assert.deepEqual(seen.download, { status: 200, bytes: 2_000_000, patternOk: true });
    });
  }
});

describe("node-spdy's spdy-transport client", () => {
  for (const protocol of PROTOCOLS) {
    test(`opens concurrent streams over ${protocol} and reads each response`, { timeout: 20_000 }, async () => {
      const { connection, socket } = await connectTransport(protocol);
      const fetchOne = (path: string) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          connection.request({ method: 'GET', path, host: `127.0.0.1:${server.port}`, headers: {} }, (error, stream) => {
            if (error) return reject(error);
            stream.on('error', reject);
            stream.on('response', (status: number) => {
              const chunks: Buffer[] = [];
              stream.on('data', (chunk: Buffer) => chunks.push(chunk));
              stream.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString() }));
            });
            stream.end();
          });
        });
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => fetchOne(`/environ.json?n=${i}`)));
      for (const [i, result] of results.entries()) {
        assert.equal(result.status, 200);
        const env = JSON.parse(result.body) as Record<string, string>;
        assert.equal(env.QUERY_STRING, `n=${i}`);
        assert.equal(env['SPDY.version'], protocol.slice(5));
      }
      connection.end();
      socket.destroy();
    });

    test(`uploads 8 MiB over ${protocol} within the windows spry announces`, { timeout: 30_000 }, async () => {
      const { connection, socket } = await connectTransport(protocol);
      const body = Buffer.alloc(8 << 20);
      for (let i = 0; i < body.length; i++) body[i] = (i * 13) & 0xff;
      const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        connection.request({ method: 'POST', path: '/upload?format=json', host: `127.0.0.1:${server.port}`, headers: { 'content-length': String(body.length) } }, (error, stream) => {
          if (error) return reject(error);
          stream.on('error', reject);
          stream.on('response', (status: number) => {
            const chunks: Buffer[] = [];
            stream.on('data', (chunk: Buffer) => chunks.push(chunk));
            stream.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString() }));
          });
          stream.end(body);
        });
      });
      assert.equal(result.status, 200);
      assert.deepEqual(JSON.parse(result.body), { bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
      connection.end();
      socket.destroy();
    });
  }
});

async function connectTransport(protocol: (typeof PROTOCOLS)[number]) {
  const socket = tlsConnect({ host: '127.0.0.1', port: server.port, ALPNProtocols: [protocol], rejectUnauthorized: false });
  await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  assert.equal(socket.alpnProtocol, protocol);
  const connection = transport.connection.create(socket, { protocol: 'spdy', isServer: false });
  connection.start(protocol === 'spdy/2' ? 2 : protocol === 'spdy/3' ? 3 : 3.1);
  return { connection, socket };
}

interface SpdyTransport {
  connection: {
    create(socket: unknown, options: { protocol: 'spdy'; isServer: boolean }): {
      start(version: number): void;
      request(
        options: { method: string; path: string; host: string; headers: Record<string, string> },
        callback: (error: Error | null, stream: NodeJS.ReadWriteStream & { on(event: 'response', listener: (status: number) => void): unknown; end(body?: Buffer): void }) => void,
      ): void;
      end(): void;
    };
  };
}
