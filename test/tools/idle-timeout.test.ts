// --http-timeout closes idle h2 and HTTP/1.1 keep-alive connections, not only SPDY ones. A real
// spry process runs with --http-timeout 1; each client makes one request, then idles until the
// server closes the connection. The waits are bounded by test timeouts, not measured.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { connect as http2Connect, constants as http2Constants } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, type NetConnectOpts, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import type { SpryProcess } from '../helpers/spry-process.ts';
import { startSpryWithBothListeners } from './fixtures.ts';

// Long enough for a one-second idle timeout to fire on a loaded CI machine.
const WAIT_FOR_CLOSE_MS = 15_000;

let spry: SpryProcess;

before(async () => {
  spry = await startSpryWithBothListeners(['--http-timeout', '1']);
}, { timeout: 30_000 });

after(async () => {
  await spry?.stop();
});

/** How the server ended a connection: the events the client saw, in order. */
interface ClosedBy {
  readonly events: readonly string[];
}

/**
 * One keep-alive HTTP/1.1 request on a connection of its own, outside any agent's pool; resolves
 * with the socket once the response ended. An agent would close an idle socket itself: Node 24's
 * by the server's `Keep-Alive: timeout=1` hint, Node 26's at the first byte or EOF the server
 * sends (its free-socket guard destroys the socket, so the client never sees 'end').
 */
async function requestOnKeepAliveSocket(send: (options: RequestOptions) => ClientRequest, options: RequestOptions): Promise<{ socket: Socket; response: IncomingMessage; events: string[] }> {
  const events: string[] = [];
  const request = send(options);
  const [socket] = (await once(request, 'socket')) as [Socket];
  socket.once('end', () => events.push('end'));
  socket.once('close', () => events.push('close'));
  request.end();
  const [response] = (await once(request, 'response')) as [IncomingMessage];
  response.resume();
  await once(response, 'end');
  return { socket, response, events };
}

async function http1Idle(scheme: 'https' | 'http'): Promise<{ response: IncomingMessage; socket: Socket } & ClosedBy> {
  const { port } = spry.listener(scheme);
  const options: RequestOptions = { host: '127.0.0.1', port, path: '/environ.json', headers: { connection: 'keep-alive' } };
  const { socket, response, events } =
    scheme === 'https'
      ? await requestOnKeepAliveSocket(httpsRequest, { ...options, createConnection: (o) => tlsConnect({ ...(o as ConnectionOptions), rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }) })
      : await requestOnKeepAliveSocket(httpRequest, { ...options, createConnection: (o) => netConnect(o as NetConnectOpts) });
  if (!events.includes('close')) await once(socket, 'close');
  return { response, socket, events };
}

async function h2Idle(scheme: 'https' | 'http'): Promise<{ env: Record<string, string>; goawayCode: number | undefined } & ClosedBy> {
  const events: string[] = [];
  let goawayCode: number | undefined;
  const session = http2Connect(spry.listener(scheme).origin, { rejectUnauthorized: false });
  session.on('error', () => {}); // 'close' follows; the assertions say what was expected
  session.once('goaway', (code: number) => {
    goawayCode = code;
    events.push('goaway');
  });
  const closed = once(session, 'close').then(() => events.push('close'));
  const stream = session.request({ ':path': '/environ.json' });
  stream.setEncoding('utf8');
  let body = '';
  stream.on('data', (text: string) => (body += text));
  await once(stream, 'end');
  await closed;
  return { env: JSON.parse(body) as Record<string, string>, goawayCode, events };
}

describe('spry --http-timeout 1', { concurrency: true }, () => {
  for (const scheme of ['https', 'http'] as const) {
    const over = scheme === 'https' ? 'over TLS (ALPN h2)' : 'over h2c on the --http port';
    test(`sends GOAWAY (NO_ERROR) on an idle h2 connection ${over} and closes it`, { timeout: WAIT_FOR_CLOSE_MS }, async () => {
      const { env, goawayCode, events } = await h2Idle(scheme);
      assert.equal(env.HTTP2, 'on');
      assert.equal(goawayCode, http2Constants.NGHTTP2_NO_ERROR);
      assert.deepEqual(events, ['goaway', 'close']);
    });
  }

  for (const scheme of ['https', 'http'] as const) {
    const over = scheme === 'https' ? 'over TLS (ALPN http/1.1)' : 'on the --http port';
    test(`closes an idle HTTP/1.1 keep-alive connection ${over}`, { timeout: WAIT_FOR_CLOSE_MS }, async () => {
      const { response, socket, events } = await http1Idle(scheme);
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers.connection, 'keep-alive', 'the server offered to keep the connection');
      if (scheme === 'https') assert.equal((socket as TLSSocket).alpnProtocol, 'http/1.1');
      // 'end' first: the server's FIN arrived; the client did not close the socket itself.
      assert.deepEqual(events, ['end', 'close']);
    });
  }
});
