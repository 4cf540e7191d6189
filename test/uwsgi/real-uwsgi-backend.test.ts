// spry as the router in front of real uWSGI workers (`--http-to`): Werkzeug's test app and a
// small WSGI app of our own (test/fixtures/wsgi_echo.py) run under Debian's uWSGI with the
// python3 plugin, spry runs as a process, and clients speak every protocol spry's TLS port
// offers. What the WSGI app sees is what spry sent over the uwsgi protocol.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connectClient, headerValues, type ProtocolClient, type ProtocolName } from '../helpers/protocol-clients.ts';
import { startSpry, type SpryProcess } from '../helpers/spry-process.ts';
import { delay, freePort, within, MIB, SKIP_WERKZEUG, patternBytes, sha256, startUwsgi, StreamingHash, tempDir, uploadBytes, werkzeugEnviron, writeCertificate, WSGI_ECHO, type Peer } from './helpers.ts';

// Both describes share one before() that starts the Werkzeug app and ours under uWSGI.
const skip = SKIP_WERKZEUG;
const TRANSFER_BYTES = 20 * MIB;
const BIG_PROTOCOLS: readonly ProtocolName[] = ['spdy/3.1', 'h2', 'http/1.1'];

let dir: Awaited<ReturnType<typeof tempDir>>;
const peers: Peer[] = [];
const spries: SpryProcess[] = [];
let uwsgiPorts: { werkzeug: number; echo: number; echo2: number; dead: number };
let unixSocket: string;
/** spry in front of: Werkzeug's test app; the echo app; the echo app on a unix socket; two echo apps; a dead port then the echo app. */
let spry: { werkzeug: SpryProcess; echo: SpryProcess; unix: SpryProcess; pair: SpryProcess; dead: SpryProcess };

interface EchoReply {
  environ: Record<string, string>;
  body_length: number;
  sha256: string;
  pid: number;
}

function httpsPort(process: SpryProcess): { host: string; port: number } {
  return { host: '127.0.0.1', port: process.listener('https').port };
}

async function withClient<T>(protocol: ProtocolName, process: SpryProcess, use: (client: ProtocolClient) => Promise<T>): Promise<T> {
  const client = await connectClient(protocol, httpsPort(process));
  try {
    return await use(client);
  } finally {
    // Bounded: a SPDY client's graceful close waits for streams a failed test may leave open.
    await within(3_000, client.close(), `closing the ${protocol} client`).catch(() => {});
  }
}

before(async () => {
  if (skip) return;
  dir = await tempDir('spry-uwsgi-backend-');
  const { cert, key } = await writeCertificate(dir.path);
  const [werkzeug, echo, echo2, dead] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  uwsgiPorts = { werkzeug, echo, echo2, dead };
  unixSocket = join(dir.path, 'echo.sock');
  const started = await Promise.allSettled([
    startUwsgi('werkzeug.testapp:test_app', `127.0.0.1:${werkzeug}`, dir.path),
    startUwsgi(WSGI_ECHO, `127.0.0.1:${echo}`, dir.path),
    startUwsgi(WSGI_ECHO, `127.0.0.1:${echo2}`, dir.path),
    startUwsgi(WSGI_ECHO, unixSocket, dir.path),
  ]);
  for (const outcome of started) if (outcome.status === 'fulfilled') peers.push(outcome.value);
  for (const outcome of started) if (outcome.status === 'rejected') throw outcome.reason;

  const tls = `addr=127.0.0.1:0,cert=${cert},key=${key},spdy=1`;
  const run = async (...backends: string[]): Promise<SpryProcess> => {
    const process = await startSpry(['--https2', tls, '--http', '127.0.0.1:0', ...backends.flatMap((backend) => ['--http-to', backend]), '--http-timeout', '30', '--http-gracetime', '1']);
    spries.push(process);
    return process;
  };
  const [w, e, u, p, d] = await Promise.all([
    run(`127.0.0.1:${werkzeug}`),
    run(`127.0.0.1:${echo}`),
    run(unixSocket),
    run(`127.0.0.1:${echo}`, `127.0.0.1:${echo2}`),
    run(`127.0.0.1:${dead}`, `127.0.0.1:${echo}`),
  ]);
  spry = { werkzeug: w, echo: e, unix: u, pair: p, dead: d };
}, { timeout: 30_000 });

after(async () => {
  await Promise.all([...spries.map((process) => process.stop()), ...peers.map((peer) => peer.stop())]);
  await dir?.remove();
});

describe("Werkzeug's test app under uWSGI, behind spry --http-to", { skip, timeout: 60_000 }, () => {
  for (const protocol of ['spdy/3.1', 'spdy/3', 'spdy/2'] as const) {
    test(`over ${protocol} the page shows SPDY on, version ${protocol.slice(5)} and the stream id`, async () => {
      await withClient(protocol, spry.werkzeug, async (client) => {
        const first = await client.request({ path: '/' });
        const second = await client.request({ path: '/?again=1' });
        assert.equal(first.status, 200);
        assert.match(first.body.toString(), /<title>WSGI Information<\/title>/);
        const env = werkzeugEnviron(first.body.toString());
        assert.equal(env.SPDY, 'on');
        assert.equal(env['SPDY.version'], protocol.slice(5));
        assert.equal(env['SPDY.stream'], '1');
        assert.equal(werkzeugEnviron(second.body.toString())['SPDY.stream'], '3');
        assert.equal(env.HTTPS, 'on');
        assert.equal(env.REQUEST_METHOD, 'GET');
        assert.equal(env.PATH_INFO, '/');
        assert.equal(env.SERVER_PROTOCOL, 'HTTP/1.1');
        assert.equal(env.HTTP2, undefined);
      });
    });
  }

  test('over h2 the page shows HTTP2 and its stream, and no SPDY variables', async () => {
    await withClient('h2', spry.werkzeug, async (client) => {
      const page = await client.request({ path: '/' });
      assert.equal(page.status, 200);
      const env = werkzeugEnviron(page.body.toString());
      assert.equal(env.SERVER_PROTOCOL, 'HTTP/2.0');
      assert.equal(env.HTTP2, 'on');
      assert.equal(env['HTTP2.stream'], '1');
      assert.equal(env.HTTPS, 'on');
      for (const key of ['SPDY', 'SPDY.version', 'SPDY.stream']) assert.equal(env[key], undefined, key);
    });
  });

  test('over HTTP/1.1 (TLS and the plain --http port) the page shows no SPDY variables', async () => {
    await withClient('http/1.1', spry.werkzeug, async (client) => {
      const env = werkzeugEnviron((await client.request({ path: '/' })).body.toString());
      assert.equal(env.SERVER_PROTOCOL, 'HTTP/1.1');
      assert.equal(env.HTTPS, 'on');
      for (const key of ['SPDY', 'SPDY.version', 'SPDY.stream', 'HTTP2']) assert.equal(env[key], undefined, key);
    });
    const plain = await fetch(`${spry.werkzeug.listener('http').origin}/?plain=1`);
    assert.equal(plain.status, 200);
    const env = werkzeugEnviron(await plain.text());
    assert.equal(env.QUERY_STRING, 'plain=1');
    assert.equal(env.SPDY, undefined);
    assert.equal(env.HTTPS, undefined);
  });
});

describe('a WSGI app of our own under uWSGI, behind spry --http-to', { skip, timeout: 60_000 }, () => {
  const upload = !skip ? uploadBytes(TRANSFER_BYTES) : Buffer.alloc(0);
  const uploadSha256 = sha256(upload);
  const downloadSha256 = !skip ? sha256(patternBytes(TRANSFER_BYTES)) : '';

  for (const protocol of BIG_PROTOCOLS) {
    test(`a 20 MiB upload over ${protocol} reaches the app byte-exact`, async () => {
      await withClient(protocol, spry.echo, async (client) => {
        const response = await client.request({
          method: 'POST',
          path: '/upload?via=spry',
          headers: [['content-type', 'application/octet-stream'], ['content-length', String(upload.length)]],
          body: upload,
        });
        assert.equal(response.status, 200, response.body.toString().slice(0, 200));
        const reply = JSON.parse(response.body.toString()) as EchoReply;
        assert.equal(reply.body_length, TRANSFER_BYTES);
        assert.equal(reply.sha256, uploadSha256);
        assert.equal(reply.environ.CONTENT_LENGTH, String(TRANSFER_BYTES));
        assert.equal(reply.environ.CONTENT_TYPE, 'application/octet-stream');
        assert.equal(reply.environ.REQUEST_METHOD, 'POST');
        assert.equal(reply.environ.QUERY_STRING, 'via=spry');
        assert.equal(reply.environ.SPDY, protocol.startsWith('spdy/') ? 'on' : undefined);
      });
    });

    test(`a 20 MiB download over ${protocol} arrives byte-exact`, async () => {
      await withClient(protocol, spry.echo, async (client) => {
        const hash = new StreamingHash();
        const response = await client.request({ path: `/bytes?n=${TRANSFER_BYTES}`, onBody: hash.take });
        assert.equal(response.status, 200);
        assert.equal(hash.bytes, TRANSFER_BYTES);
        assert.equal(hash.digest(), downloadSha256);
      });
    });

    test(`repeated Set-Cookie headers arrive separately over ${protocol}`, async () => {
      await withClient(protocol, spry.echo, async (client) => {
        const response = await client.request({ path: '/cookies' });
        assert.equal(response.status, 200);
        assert.deepEqual(headerValues(response.headers, 'set-cookie'), ['a=1; Path=/', 'b=2; Path=/; HttpOnly', 'c=3']);
        assert.equal(response.body.toString(), 'cookies\n');
      });
    });
  }

  test('passes request headers as HTTP_* variables, and a repeated header joined', async () => {
    await withClient('spdy/3.1', spry.echo, async (client) => {
      const response = await client.request({ path: '/echo', headers: [['x-custom-thing', 'one'], ['accept', 'text/plain'], ['accept', 'application/json']] });
      const reply = JSON.parse(response.body.toString()) as EchoReply;
      assert.equal(reply.environ.HTTP_X_CUSTOM_THING, 'one');
      assert.equal(reply.environ.HTTP_ACCEPT, 'text/plain, application/json');
      assert.equal(reply.environ['SPDY.version'], '3.1');
    });
  });

  test('reaches a backend on a unix socket (uwsgi --socket PATH, spry --http-to PATH)', async () => {
    for (const protocol of ['spdy/3.1', 'h2', 'http/1.1'] as const) {
      await withClient(protocol, spry.unix, async (client) => {
        const body = uploadBytes(100_000);
        const response = await client.request({ method: 'PUT', path: '/over/unix', headers: [['content-length', String(body.length)]], body });
        assert.equal(response.status, 200, `${protocol}: ${response.body.toString().slice(0, 200)}`);
        const reply = JSON.parse(response.body.toString()) as EchoReply;
        assert.equal(reply.sha256, sha256(body), protocol);
        assert.equal(reply.environ.PATH_INFO, '/over/unix', protocol);
      });
    }
  });

  test('two backends are both used: alternately one request at a time, and both under concurrency', async () => {
    await withClient('spdy/3.1', spry.pair, async (client) => {
      const pids: number[] = [];
      for (let i = 0; i < 6; i++) pids.push((JSON.parse((await client.request({ path: `/seq/${i}` })).body.toString()) as EchoReply).pid);
      assert.equal(new Set(pids).size, 2, `pids ${pids.join(', ')}`);
      for (let i = 1; i < pids.length; i++) assert.notEqual(pids[i], pids[i - 1], `round robin between two idle backends: pids ${pids.join(', ')}`);

      const replies = await Promise.all(Array.from({ length: 16 }, (_, i) => client.request({ path: `/concurrent/${i}` })));
      const counts = new Map<number, number>();
      for (const reply of replies) {
        assert.equal(reply.status, 200);
        const pid = (JSON.parse(reply.body.toString()) as EchoReply).pid;
        counts.set(pid, (counts.get(pid) ?? 0) + 1);
      }
      assert.deepEqual([...counts.keys()].sort(), [...new Set(pids)].sort(), 'both backends served the concurrent requests');
    });
  });

  test('a dead backend (a closed port) is skipped with a retry: every request succeeds, and spry logs "marked dead"', async () => {
    const deadLabel = `127.0.0.1:${uwsgiPorts.dead}`;
    const deadLines = (): number => spry.dead.stderr().split('\n').filter((line) => line.includes(deadLabel) && line.includes('marked dead')).length;
    await withClient('spdy/3.1', spry.dead, async (client) => {
      // The first request goes to the first node, the dead one; its body must survive the retry.
      const body = uploadBytes(1 * MIB);
      const first = await client.request({ method: 'POST', path: '/first', headers: [['content-length', String(body.length)]], body });
      assert.equal(first.status, 200, first.body.toString().slice(0, 200));
      assert.equal((JSON.parse(first.body.toString()) as EchoReply).sha256, sha256(body));
      assert.equal(deadLines(), 1, spry.dead.stderr());

      const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => client.request({ path: `/after/${i}` })));
      for (const reply of replies) assert.equal(reply.status, 200);
      assert.equal(deadLines(), 1, 'a dead node is left alone for --http-gracetime');

      // After the gracetime (1 s) the dead node is tried again (by one of the next two requests,
      // taken one at a time), fails, and is skipped again.
      await delay(1_100);
      for (let i = 0; i < 4; i++) assert.equal((await client.request({ path: `/again/${i}` })).status, 200);
      assert.equal(deadLines(), 2, spry.dead.stderr());
    });
  });
});
