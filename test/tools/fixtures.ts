// What the tools tests compare against: the test app's /bytes pattern, a random upload file,
// and a spry process with one --https2 and one --http listener.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { TEST_APP_ARGS, startSpry, type SpryProcess } from '../helpers/spry-process.ts';

/** The test app's /bytes?n=N body: byte i is i % 251. */
export function bytesPatternSha256(n: number): string {
  const PERIOD = 251;
  const CHUNK_BYTES = 64 * 1024;
  const pattern = Buffer.alloc(CHUNK_BYTES + PERIOD);
  for (let i = 0; i < pattern.length; i++) pattern[i] = i % PERIOD;
  const hash = createHash('sha256');
  for (let offset = 0; offset < n; offset += CHUNK_BYTES) {
    const start = offset % PERIOD;
    hash.update(pattern.subarray(start, start + Math.min(CHUNK_BYTES, n - offset)));
  }
  return hash.digest('hex');
}

export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Writes `bytes` random bytes to `path` and returns their SHA-256. */
export async function writeRandomFile(path: string, bytes: number): Promise<string> {
  const data = randomBytes(bytes);
  await writeFile(path, data);
  return createHash('sha256').update(data).digest('hex');
}

/**
 * spry with the test app on a TLS port (self-signed certificate, h2 + SPDY + HTTP/1.1) and a
 * plain port (HTTP/1.1 + h2c), both on 127.0.0.1 port 0.
 */
export function startSpryWithBothListeners(extraArgs: readonly string[] = []): Promise<SpryProcess> {
  return startSpry(['--https2', 'addr=127.0.0.1:0,spdy=1', '--http', '127.0.0.1:0', ...TEST_APP_ARGS, ...extraArgs]);
}

/** One transport a client can reach the test app over, and what the app should see. */
export interface Transport {
  readonly scheme: 'https' | 'http';
  /** h2 (TLS ALPN or h2c prior knowledge) or HTTP/1.1. */
  readonly h2: boolean;
}

export function expectedServerProtocol(transport: Transport): string {
  return transport.h2 ? 'HTTP/2.0' : 'HTTP/1.1';
}

/** The environment the test app reports for GET /environ.json over `transport`. */
export function assertEnvironFor(env: Record<string, string>, transport: Transport, port: number): void {
  assert.equal(env.REQUEST_METHOD, 'GET');
  assert.equal(env.PATH_INFO, '/environ.json');
  assert.equal(env.SERVER_PROTOCOL, expectedServerProtocol(transport));
  assert.equal(env.SERVER_PORT, String(port));
  assert.equal(env.REMOTE_ADDR, '127.0.0.1');
  assert.equal(env.UWSGI_SCHEME, transport.scheme);
  assert.equal(env.HTTPS, transport.scheme === 'https' ? 'on' : undefined);
  if (transport.h2) {
    assert.equal(env.HTTP2, 'on');
    assert.match(env['HTTP2.stream'], /^[1-9]\d*$/);
    assert.equal(Number(env['HTTP2.stream']) % 2, 1, 'client-initiated h2 streams are odd');
  } else {
    assert.equal(env.HTTP2, undefined);
    assert.equal(env['HTTP2.stream'], undefined);
  }
  for (const key of ['SPDY', 'SPDY.version', 'SPDY.stream']) assert.equal(env[key], undefined, `${key} must not be set`);
}
