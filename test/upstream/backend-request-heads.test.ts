// The headers an HTTP backend behind --http-to gets follow one set of rules
// (src/upstream/backend-requests.ts, httpBackendFields) in two encodings: the text head of spry's
// own client for requests, and node:http's header object for upgrades. The same client headers
// must reach the backend the same either way, but for the upgrade's own Upgrade and Connection.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';
import { within } from '../uwsgi/helpers.ts';

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
});

/** The client's headers: repeated fields, hop-by-hop ones, and each X-Forwarded-* and Forwarded spry rewrites. */
const CLIENT_HEADERS = [
  'Host: front.example',
  'Accept: text/plain',
  'Cookie: a=1',
  'Cookie: b=2',
  'X-Forwarded-For: 192.0.2.1',
  'X-Forwarded-For: 192.0.2.2',
  'Forwarded: for=192.0.2.1',
  'Forwarded: for=192.0.2.2;proto=http',
  'X-Forwarded-Proto: gopher',
  'X-Forwarded-Host: elsewhere.example',
  'TE: trailers',
  'Keep-Alive: timeout=5',
  'X-Custom: one',
];

/**
 * The backend's view of a request's headers, "name: value" in lower case but Upgrade and
 * Connection, with Cookie fields joined by '; ' as node:http's client joins an array of them
 * (RFC 6265 §5.4: one Cookie field), where spry's own client sends each as it came.
 */
function seenHeaders(req: IncomingMessage): string[] {
  const pairs: string[] = [];
  const cookies: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    if (name === 'cookie') cookies.push(req.rawHeaders[i + 1]);
    else if (name !== 'upgrade' && name !== 'connection') pairs.push(`${name}: ${req.rawHeaders[i + 1]}`);
  }
  if (cookies.length > 0) pairs.push(`cookie: ${cookies.join('; ')}`);
  return pairs.sort();
}

/** Sends `lines` as one request head on a new connection to spry and reads until the status line. */
async function send(port: number, lines: string[]): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    await within(10_000, new Promise<void>((resolve) => {
      const check = (): void => {
        if (text.includes('\r\n')) resolve();
        else socket.once('data', check);
      };
      check();
    }), 'no answer from spry');
    return text.slice(0, text.indexOf('\r\n'));
  } finally {
    socket.destroy();
  }
}

describe('a request and an upgrade forwarded to an HTTP backend', { timeout: 60_000 }, () => {
  let spry: SpryProcess;
  const seen = new Map<string, string[]>();

  before(async () => {
    const backend = createServer((req, res) => {
      seen.set(req.url ?? '', seenHeaders(req));
      res.end('ok');
    });
    backend.on('upgrade', (req: IncomingMessage, socket) => {
      seen.set(req.url ?? '', seenHeaders(req));
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    });
    backend.listen(0, '127.0.0.1');
    await once(backend, 'listening');
    cleanup.push(() => {
      backend.closeAllConnections();
      return new Promise((done) => backend.close(done));
    });
    const port = (backend.address() as { port: number }).port;
    spry = await startSpry(['--http', '127.0.0.1:0', '--http-to', `http://127.0.0.1:${port}`, '--http-timeout', '5']);
    cleanup.push(() => spry.stop());
  });

  test('carry the same headers, hop-by-hop ones dropped, Host, X-Forwarded-* and Forwarded rewritten alike', async () => {
    const port = spry.listener('http').port;
    assert.equal(await send(port, ['GET /request HTTP/1.1', ...CLIENT_HEADERS]), 'HTTP/1.1 200 OK');
    assert.equal(await send(port, ['GET /upgrade HTTP/1.1', ...CLIENT_HEADERS, 'Upgrade: websocket', 'Connection: Upgrade']), 'HTTP/1.1 101 Switching Protocols');
    const request = seen.get('/request');
    const upgrade = seen.get('/upgrade');
    assert.ok(request !== undefined && upgrade !== undefined, `the backend saw ${[...seen.keys()].join(', ')}`);
    // Each encoding may order the fields its own way (seenHeaders sorts them); the fields are the same.
    assert.deepEqual(upgrade, request);
    const element = 'for=127.0.0.1;host=front.example;proto=http';
    assert.deepEqual(request, [
      'accept: text/plain',
      'cookie: a=1; b=2',
      `forwarded: for=192.0.2.1, for=192.0.2.2;proto=http, ${element}`,
      'host: front.example',
      'x-custom: one',
      'x-forwarded-for: 192.0.2.1,192.0.2.2, 127.0.0.1',
      'x-forwarded-host: front.example',
      'x-forwarded-proto: http',
    ]);
  });
});
