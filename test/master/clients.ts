// Small clients for the master-process tests: one request over spdy/3.1, h2 or plain HTTP/1.1,
// on a connection of its own or a given one, each bounded by a timeout so a hung server fails a
// test instead of hanging it; and which failures a protocol lets a client retry elsewhere.

import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect as http2Connect, constants as http2Constants, type ClientHttp2Session } from 'node:http2';
import { SpdyClient, type SpdyResponse } from '../../src/spdy/client.ts';
import { withTimeout } from './master-process.ts';

// A guard against a hung server, not a speed check: a connection that arrives while a worker is
// being respawned waits for the new worker's app to load, which on a loaded 2-core machine has
// taken over 5 s.
export const REQUEST_TIMEOUT_MS = 15_000;

export interface Answer {
  readonly status: number;
  readonly body: Buffer;
}

export interface ProcessInfo {
  readonly pid: number;
  readonly uid: number;
  readonly euid: number;
  readonly gid: number;
  readonly egid: number;
  readonly groups: number[];
}

export function processInfo(answer: Answer): ProcessInfo {
  assert.equal(answer.status, 200, `status ${answer.status}: ${answer.body.toString()}`);
  return JSON.parse(answer.body.toString()) as ProcessInfo;
}

export function connectSpdy(port: number, host = '127.0.0.1'): Promise<SpdyClient> {
  return withTimeout(SpdyClient.connect({ host, port, protocol: 'spdy/3.1' }), REQUEST_TIMEOUT_MS, `spdy/3.1 connection to ${host}:${port}`);
}

export function spdyRequest(client: SpdyClient, path: string, options: Parameters<SpdyClient['request']>[1] = {}, timeoutMs = REQUEST_TIMEOUT_MS): Promise<SpdyResponse> {
  return withTimeout(client.request(path, options), timeoutMs, `spdy/3.1 ${path}`, () => client.session.destroy());
}

/** One request on a connection of its own. */
export async function spdyGet(port: number, path: string, host = '127.0.0.1'): Promise<Answer> {
  const client = await connectSpdy(port, host);
  try {
    return await spdyRequest(client, path);
  } finally {
    client.session.destroy();
  }
}

export async function connectH2(port: number, host = '127.0.0.1'): Promise<ClientHttp2Session> {
  const session = http2Connect(`https://${host}:${port}`, { ALPNProtocols: ['h2'], rejectUnauthorized: false });
  session.on('error', () => {}); // its streams report it
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        session.once('connect', () => resolve());
        session.once('error', reject);
      }),
      REQUEST_TIMEOUT_MS,
      `h2 connection to ${host}:${port}`,
    );
  } catch (error) {
    session.destroy();
    throw error;
  }
  assert.equal(session.alpnProtocol, 'h2');
  return session;
}

export function h2Request(session: ClientHttp2Session, path: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Answer> {
  // request() throws when the session is already closing: the caller decides what that means.
  const stream = session.request({ ':method': 'GET', ':path': path }, { endStream: true });
  const answer = new Promise<Answer>((resolve, reject) => {
    let status = 0;
    let ended = false;
    const chunks: Buffer[] = [];
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => (ended = true));
    // Either way the error carries the stream's RST code (REFUSED_STREAM means "retry elsewhere").
    stream.on('error', (error) => reject(Object.assign(error, { rstCode: stream.rstCode })));
    stream.on('close', () => {
      if (ended && status !== 0 && stream.rstCode === http2Constants.NGHTTP2_NO_ERROR) resolve({ status, body: Buffer.concat(chunks) });
      else reject(Object.assign(new Error(`h2 stream ${stream.id} closed (RST code ${stream.rstCode}) ${status === 0 ? 'without a response' : 'before its response ended'}`), { rstCode: stream.rstCode }));
    });
  });
  return withTimeout(answer, timeoutMs, `h2 ${path}`, () => stream.destroy());
}

export async function h2Get(port: number, path: string, host = '127.0.0.1'): Promise<Answer> {
  const session = await connectH2(port, host);
  try {
    return await h2Request(session, path);
  } finally {
    session.destroy();
  }
}

/** A plain-HTTP GET on a connection of its own. */
export function httpGet(port: number, path: string, host = '127.0.0.1'): Promise<Answer> {
  return withTimeout(
    new Promise<Answer>((resolve, reject) => {
      const req = httpRequest({ host, port, path, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    }),
    REQUEST_TIMEOUT_MS,
    `http ${path}`,
  );
}

/** True for a request the server provably did not process (so it may go elsewhere). */
export function isRefusal(error: unknown): boolean {
  const { message, code, rstCode } = error as { message?: string; code?: string; rstCode?: number };
  // SPDY: streams above GOAWAY's last-good-stream-id, or SYN_STREAM after GOAWAY (SPDY/3 §2.6.6, §2.6.2).
  if (/refused by GOAWAY|\(REFUSED_STREAM\)/.test(message ?? '')) return true;
  // h2 (RFC 9113 §6.8, §8.7): GOAWAY above the stream's id or REFUSED_STREAM.
  if (rstCode === http2Constants.NGHTTP2_REFUSED_STREAM) return true;
  if (code === 'ERR_HTTP2_GOAWAY_SESSION') return true;
  // Our SPDY client refusing to open a stream on a session that already got GOAWAY: never sent.
  return code === 'SPRY_ERR_SPDY_SESSION_CLOSED' && message === 'the session is closing';
}

/**
 * Makes the request again (a new connection each time) while the server refuses it unprocessed,
 * as a client does across a reload; any other failure is thrown.
 */
export async function retryingRefusals(request: () => Promise<Answer>, attempts = 5): Promise<Answer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      if (!isRefusal(error) || attempt >= attempts) throw error;
    }
  }
}
