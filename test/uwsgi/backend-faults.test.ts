// Backends that misbehave, behind spry --http-to with --http-timeout 2. One raw node:net
// server speaks the uwsgi protocol: it reads the request packet and then, by PATH_INFO, answers
// properly (/ok, after ?ms=N) or misbehaves (/bad/…). So a faulty request and healthy requests
// share one spry, one backend and one client connection, and "other streams on the same
// connection are unaffected" is tested for real. A second spry forwards to a closed port.
//
// Expected (src/upstream/forwarding-app.ts): refused → 502, no head within the timeout → 504,
// not HTTP → 502, cut before the head ends → 502, cut in the body → the stream is reset (SPDY
// RST_STREAM, h2 RST_STREAM) or, on HTTP/1.1, the connection is closed.

import assert from 'node:assert/strict';
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SpdyClient, statusOf } from '../../src/spdy/client.ts';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';
import { freePort, tempDir, within, writeCertificate } from './helpers.ts';

const HTTP_TIMEOUT_S = 2;
/** No outcome may take longer than this (the timeout plus generous slack). */
const OUTCOME_BOUND_MS = 7_000;
const MID_BODY_LENGTH = 100_000;
const MID_BODY_SENT = 1_000;

// ── the misbehaving backend ─────────────────────────────────────────────────

interface RawBackend {
  readonly port: number;
  /** PATH_INFO of every request it read, in order. */
  readonly paths: string[];
  close(): Promise<void>;
}

function startRawBackend(): Promise<RawBackend> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const paths: string[] = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 4) return;
      const size = buffered.readUInt16LE(1);
      if (buffered.length < 4 + size) return;
      socket.off('data', onData);
      socket.resume();
      const vars = readVars(buffered.subarray(4, 4 + size));
      paths.push(vars.PATH_INFO);
      behave(socket, vars.PATH_INFO, new URLSearchParams(vars.QUERY_STRING), timers);
    };
    socket.on('data', onData);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as { port: number }).port,
        paths,
        close: () => {
          for (const timer of timers) clearTimeout(timer);
          for (const socket of sockets) socket.destroy();
          return new Promise((done) => server.close(() => done()));
        },
      });
    });
  });
}

/** The uwsgi vars block, read by hand (not with the codec under test). */
function readVars(block: Buffer): Record<string, string> {
  const vars: Record<string, string> = {};
  for (let o = 0; o < block.length; ) {
    const keyLength = block.readUInt16LE(o);
    const key = block.toString('latin1', o + 2, o + 2 + keyLength);
    o += 2 + keyLength;
    const valueLength = block.readUInt16LE(o);
    vars[key] = block.toString('latin1', o + 2, o + 2 + valueLength);
    o += 2 + valueLength;
  }
  return vars;
}

function behave(socket: Socket, path: string, query: URLSearchParams, timers: Set<NodeJS.Timeout>): void {
  const later = (ms: number, action: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!socket.destroyed) action();
    }, ms);
    timers.add(timer);
  };
  switch (path) {
    case '/bad/hang':
      return; // accepts, reads the request, never answers
    case '/bad/garbage':
      socket.end('SSH-2.0-OpenSSH_9.2p1 this is no HTTP response\r\n\r\n');
      return;
    case '/bad/close-mid-headers':
      socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/pl');
      return;
    case '/bad/close-mid-body':
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${MID_BODY_LENGTH}\r\n\r\n`);
      socket.write(Buffer.alloc(MID_BODY_SENT, 0x78));
      // Long enough for the head and the first bytes to reach the client before the cut.
      later(150, () => socket.end());
      return;
    case '/bad/close-mid-chunked':
      // No Content-Length: only the cut itself can tell the client the body is incomplete.
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n${MID_BODY_SENT.toString(16)}\r\n`);
      socket.write(Buffer.concat([Buffer.alloc(MID_BODY_SENT, 0x78), Buffer.from('\r\n')]));
      later(150, () => socket.end());
      return;
    case '/bad/stall-mid-body':
      // The head and the first bytes, then silence with the connection left open.
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${MID_BODY_LENGTH}\r\n\r\n`);
      socket.write(Buffer.alloc(MID_BODY_SENT, 0x78));
      return;
    case '/bad/trickle': {
      // A head that never completes, one byte a second: the connection is never idle.
      socket.write('HTTP/1.1 200 OK\r\nX-Trickle: ');
      const drip = (): void => {
        socket.write('a');
        later(1_000, drip);
      };
      later(1_000, drip);
      return;
    }
    default: {
      const body = `ok ${path}\n`;
      later(Number(query.get('ms') ?? 0), () => socket.end(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
    }
  }
}

// ── what a client saw ───────────────────────────────────────────────────────

interface Outcome {
  status?: number;
  body: string;
  bytes: number;
  /** The response ended normally. */
  ended: boolean;
  /** SPDY: the stream's abort reason. h2: the stream's error. HTTP/1.1: the request's or response's error. */
  error?: Error & { code?: string };
  /** h2: the RST_STREAM code the stream closed with. */
  rstCode?: number;
}

function describeOutcome(outcome: Outcome): string {
  return JSON.stringify({ ...outcome, body: outcome.body.slice(0, 200), error: outcome.error && `${outcome.error.code ?? ''} ${outcome.error.message}` });
}

function spdyGet(client: SpdyClient, path: string): Promise<Outcome> {
  const stream = client.open(path);
  const outcome: Outcome = { body: '', bytes: 0, ended: false };
  return within(
    OUTCOME_BOUND_MS,
    new Promise((resolve) => {
      stream.onResponse = (headers) => (outcome.status = statusOf(client.session, headers));
      stream.onAbort = (error) => {
        outcome.error = error;
        resolve(outcome);
      };
      stream.setBodySink({
        data(chunk) {
          outcome.bytes += chunk.length;
          if (outcome.body.length < 1000) outcome.body += chunk.toString('latin1');
          return true;
        },
        end() {
          outcome.ended = true;
          resolve(outcome);
        },
      });
    }),
    `SPDY GET ${path}`,
  );
}

function h2Get(session: ClientHttp2Session, path: string): Promise<Outcome> {
  const stream = session.request({ ':method': 'GET', ':path': path });
  const outcome: Outcome = { body: '', bytes: 0, ended: false };
  return within(
    OUTCOME_BOUND_MS,
    new Promise((resolve) => {
      stream.on('response', (headers) => (outcome.status = Number(headers[':status'])));
      stream.on('data', (chunk: Buffer) => {
        outcome.bytes += chunk.length;
        if (outcome.body.length < 1000) outcome.body += chunk.toString('latin1');
      });
      stream.on('end', () => (outcome.ended = true));
      stream.on('error', (error) => (outcome.error = error));
      stream.on('close', () => {
        outcome.rstCode = stream.rstCode;
        resolve(outcome);
      });
    }),
    `h2 GET ${path}`,
  );
}

function h1Get(port: number, path: string, agent: HttpsAgent): Promise<Outcome> {
  const outcome: Outcome = { body: '', bytes: 0, ended: false };
  return within(
    OUTCOME_BOUND_MS,
    new Promise((resolve) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path, agent }, (res) => {
        outcome.status = res.statusCode;
        res.on('data', (chunk: Buffer) => {
          outcome.bytes += chunk.length;
          if (outcome.body.length < 1000) outcome.body += chunk.toString('latin1');
        });
        res.on('end', () => {
          outcome.ended = true;
          resolve(outcome);
        });
        res.on('error', (error) => {
          outcome.error = error;
          resolve(outcome);
        });
      });
      req.on('error', (error) => {
        outcome.error = error;
        resolve(outcome);
      });
      req.end();
    }),
    `HTTP/1.1 GET ${path}`,
  );
}

function assertStatus(outcome: Outcome, status: number, what: string): void {
  assert.equal(outcome.status, status, `${what}: ${describeOutcome(outcome)}`);
  assert.equal(outcome.ended, true, `${what}: ${describeOutcome(outcome)}`);
}

function assertHealthy(outcome: Outcome, path: string, what: string): void {
  assertStatus(outcome, 200, what);
  assert.equal(outcome.body, `ok ${path.split('?')[0]}\n`, what);
}

// ── the servers ─────────────────────────────────────────────────────────────

let dir: Awaited<ReturnType<typeof tempDir>> | undefined;
let backend: RawBackend | undefined;
let faulty: SpryProcess | undefined;
let refusing: SpryProcess | undefined;
let closedPort: number;
const agents: HttpsAgent[] = [];

before(async () => {
  dir = await tempDir('spry-backend-faults-');
  const { cert, key } = await writeCertificate(dir.path);
  backend = await startRawBackend();
  closedPort = await freePort();
  const tls = `addr=127.0.0.1:0,cert=${cert},key=${key},spdy=1`;
  const common = ['--http-timeout', String(HTTP_TIMEOUT_S)];
  const [a, b] = await Promise.allSettled([
    startSpry(['--https2', tls, '--http-to', `127.0.0.1:${backend.port}`, ...common]),
    startSpry(['--https2', tls, '--http-to', `127.0.0.1:${closedPort}`, ...common]),
  ]);
  if (a.status === 'fulfilled') faulty = a.value;
  if (b.status === 'fulfilled') refusing = b.value;
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
}, { timeout: 30_000 });

after(async () => {
  for (const agent of agents) agent.destroy();
  await Promise.all([faulty?.stop(), refusing?.stop(), backend?.close()]);
  await dir?.remove();
});

function port(process: SpryProcess | undefined): number {
  return process!.listener('https').port;
}

async function spdyClient(process: SpryProcess | undefined): Promise<SpdyClient> {
  return SpdyClient.connect({ host: '127.0.0.1', port: port(process), protocol: 'spdy/3.1' });
}

async function h2Session(process: SpryProcess | undefined): Promise<ClientHttp2Session> {
  const session = http2Connect(`https://127.0.0.1:${port(process)}`, { rejectUnauthorized: false });
  session.on('error', () => {});
  await within(5_000, new Promise((resolve, reject) => session.once('connect', resolve).once('error', reject)), 'h2 connect');
  return session;
}

function h1Agent(): HttpsAgent {
  const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
  agents.push(agent);
  return agent;
}

/** Bounded: a graceful SPDY close waits for open streams, which a failed case may leave behind. */
async function closeSpdy(client: SpdyClient): Promise<void> {
  await within(2_000, client.close(), 'closing the SPDY client').catch(() => client.session.destroy());
}

function closeH2(session: ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => {
    if (session.closed) return resolve();
    const timer = setTimeout(() => session.destroy(), 2_000);
    session.close(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Keeps a client connection busy (PINGs every 500 ms) so its own idle timeout cannot interfere. */
function keepBusy(ping: () => void): () => void {
  const timer = setInterval(ping, 500);
  return () => clearInterval(timer);
}

/**
 * Runs `bad` on one SPDY/3.1 connection and one h2 connection, each alongside a healthy request
 * already in flight on the same connection (answered after `healthyMs`) and followed by another
 * on it; and on HTTP/1.1. Returns the three outcomes of `bad` for the caller to judge.
 */
async function faultOnEveryProtocol(bad: string, healthyMs: number, options: { keepBusy?: boolean } = {}): Promise<{ spdy: Outcome; h2: Outcome; h1: Outcome }> {
  const spdy = async (): Promise<Outcome> => {
    const client = await spdyClient(faulty);
    const stop = options.keepBusy === true ? keepBusy(() => void client.session.ping()) : () => {};
    try {
      const healthyPath = `/ok/spdy-during?ms=${healthyMs}`;
      const [outcome, healthy] = await Promise.all([spdyGet(client, bad), spdyGet(client, healthyPath)]);
      assertHealthy(healthy, healthyPath, `SPDY: a healthy stream alongside ${bad}`);
      assert.equal(client.session.destroyed, false, `SPDY: the session survives ${bad}`);
      assertHealthy(await spdyGet(client, '/ok/spdy-after'), '/ok/spdy-after', `SPDY: a stream after ${bad}`);
      return outcome;
    } finally {
      stop();
      await closeSpdy(client);
    }
  };
  const h2 = async (): Promise<Outcome> => {
    const session = await h2Session(faulty);
    const stop = options.keepBusy === true ? keepBusy(() => session.ping(() => {})) : () => {};
    try {
      const healthyPath = `/ok/h2-during?ms=${healthyMs}`;
      const [outcome, healthy] = await Promise.all([h2Get(session, bad), h2Get(session, healthyPath)]);
      assertHealthy(healthy, healthyPath, `h2: a healthy stream alongside ${bad}`);
      assertHealthy(await h2Get(session, '/ok/h2-after'), '/ok/h2-after', `h2: a stream after ${bad}`);
      return outcome;
    } finally {
      stop();
      await closeH2(session);
    }
  };
  const h1 = async (): Promise<Outcome> => {
    const agent = h1Agent();
    const outcome = await h1Get(port(faulty), bad, agent);
    assertHealthy(await h1Get(port(faulty), '/ok/h1-after', agent), '/ok/h1-after', `HTTP/1.1: a request after ${bad}`);
    return outcome;
  };
  const [s, h, o] = await Promise.all([spdy(), h2(), h1()]);
  return { spdy: s, h2: h, h1: o };
}

describe(`backend faults behind spry --http-to (--http-timeout ${HTTP_TIMEOUT_S})`, { timeout: 60_000 }, () => {
  test('a backend that refuses the connection (a closed port) gets a 502, and spry marks it dead', async () => {
    const client = await spdyClient(refusing);
    try {
      const [first, second] = await Promise.all([spdyGet(client, '/a'), spdyGet(client, '/b')]);
      assertStatus(first, 502, 'SPDY, first of two concurrent streams');
      assertStatus(second, 502, 'SPDY, second of two concurrent streams');
      assert.match(first.body, /Bad Gateway/);
      assert.equal(client.session.destroyed, false);
      assertStatus(await spdyGet(client, '/c'), 502, 'SPDY, a later stream on the same connection');
    } finally {
      await closeSpdy(client);
    }
    const session = await h2Session(refusing);
    try {
      assertStatus(await h2Get(session, '/d'), 502, 'h2');
    } finally {
      await closeH2(session);
    }
    assertStatus(await h1Get(port(refusing), '/e', h1Agent()), 502, 'HTTP/1.1');
    assert.match(refusing!.stderr(), new RegExp(`backend 127\\.0\\.0\\.1:${closedPort}: ECONNREFUSED; marked dead`));
  });

  test('a backend that sends garbage gets a 502; other streams on the connection are unaffected', async () => {
    const { spdy, h2, h1 } = await faultOnEveryProtocol('/bad/garbage', 300);
    assertStatus(spdy, 502, 'SPDY');
    assertStatus(h2, 502, 'h2');
    assertStatus(h1, 502, 'HTTP/1.1');
    assert.match(spdy.body, /Bad Gateway: bad status line/);
  });

  test('a backend that closes in the middle of the headers gets a 502; other streams are unaffected', async () => {
    const { spdy, h2, h1 } = await faultOnEveryProtocol('/bad/close-mid-headers', 300);
    assertStatus(spdy, 502, 'SPDY');
    assertStatus(h2, 502, 'h2');
    assertStatus(h1, 502, 'HTTP/1.1');
  });

  for (const [path, framing] of [['/bad/close-mid-body', 'Content-Length'], ['/bad/close-mid-chunked', 'chunked']] as const) {
    test(`a backend that closes in the middle of a ${framing} body: SPDY and h2 streams are reset, the HTTP/1.1 connection is closed; other streams are unaffected`, async () => {
      const { spdy, h2, h1 } = await faultOnEveryProtocol(path, 600);
      const expectCut = (outcome: Outcome, what: string): void => {
        assert.equal(outcome.status, 200, `${what}: ${describeOutcome(outcome)}`);
        assert.equal(outcome.bytes, MID_BODY_SENT, `${what}: ${describeOutcome(outcome)}`);
        assert.equal(outcome.ended, false, `${what}: a cut body must not end like a complete one: ${describeOutcome(outcome)}`);
        assert.ok(outcome.error !== undefined, `${what}: ${describeOutcome(outcome)}`);
      };
      expectCut(spdy, 'SPDY');
      assert.equal(spdy.error?.code, 'SPRY_ERR_SPDY_STREAM_RESET', describeOutcome(spdy));
      assert.match(spdy.error!.message, /INTERNAL_ERROR/);
      expectCut(h2, 'h2');
      // spry's own RST_STREAM: INTERNAL_ERROR. (PROTOCOL_ERROR would be the client's reaction
      // to a stream that ended cleanly short of its content-length.)
      assert.equal(h2.rstCode, 2 /* INTERNAL_ERROR */, `h2: ${describeOutcome(h2)}`);
      expectCut(h1, 'HTTP/1.1');
      assert.equal(h1.error?.code, 'ECONNRESET', describeOutcome(h1));
    });
  }

  test(`a backend that goes silent in the middle of its body is cut once ${HTTP_TIMEOUT_S} s pass without a byte: SPDY and h2 streams are reset, the HTTP/1.1 connection is closed`, async () => {
    // The client connections are kept busy with PINGs, so only the backend's idle timeout is tested.
    const { spdy, h2, h1 } = await faultOnEveryProtocol('/bad/stall-mid-body', 300, { keepBusy: true });
    for (const [what, outcome] of [['SPDY', spdy], ['h2', h2], ['HTTP/1.1', h1]] as const) {
      assert.equal(outcome.status, 200, `${what}: ${describeOutcome(outcome)}`);
      assert.equal(outcome.bytes, MID_BODY_SENT, `${what}: ${describeOutcome(outcome)}`);
      assert.equal(outcome.ended, false, `${what}: a cut body must not end like a complete one: ${describeOutcome(outcome)}`);
      assert.ok(outcome.error !== undefined, `${what}: ${describeOutcome(outcome)}`);
    }
  });

  test(`a backend that accepts and never answers gets a 504 after ${HTTP_TIMEOUT_S} s; other streams are unaffected`, async () => {
    const started = Date.now();
    const { spdy, h2, h1 } = await faultOnEveryProtocol('/bad/hang', 1_000);
    assertStatus(spdy, 504, 'SPDY');
    assertStatus(h2, 504, 'h2');
    assertStatus(h1, 504, 'HTTP/1.1');
    assert.match(spdy.body, /Gateway Timeout/);
    assert.ok(Date.now() - started >= HTTP_TIMEOUT_S * 1000 - 100);
  });

  test(`a lone request to a hanging backend gets its 504, not the client connection's own idle close`, async () => {
    // Nothing else happens on these connections: the request waiting for its backend is all.
    const client = await spdyClient(faulty);
    const session = await h2Session(faulty);
    try {
      const [spdy, h2, h1] = await Promise.all([spdyGet(client, '/bad/hang'), h2Get(session, '/bad/hang'), h1Get(port(faulty), '/bad/hang', h1Agent())]);
      const failures: string[] = [];
      for (const [what, outcome] of [['SPDY', spdy], ['h2', h2], ['HTTP/1.1', h1]] as const) {
        if (outcome.status !== 504 || !outcome.ended) failures.push(`${what}: ${describeOutcome(outcome)}`);
      }
      assert.deepEqual(failures, []);
    } finally {
      await closeSpdy(client);
      await closeH2(session);
    }
  });

  test(`a backend that trickles its head one byte a second gets a 504 once ${HTTP_TIMEOUT_S} s pass without a complete head`, async () => {
    // The client connections are kept busy with PINGs, so only the backend's timeout is tested.
    const { spdy, h2, h1 } = await faultOnEveryProtocol('/bad/trickle', 300, { keepBusy: true });
    assertStatus(spdy, 504, 'SPDY');
    assertStatus(h2, 504, 'h2');
    assertStatus(h1, 504, 'HTTP/1.1');
  });
});
