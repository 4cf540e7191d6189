// spry as the worker behind real routers (`--socket`): nginx's uwsgi_pass and uWSGI's own HTTP
// router speak the uwsgi protocol to a spry process running the test app, and a plain HTTP
// client talks to the router. What the app sees is what the router sent.

import assert from 'node:assert/strict';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, MIB, SKIP_NGINX, SKIP_UWSGI_ROUTER, patternBytes, plainRequest, sha256, startNginx, startPeer, startSpryWith, StreamingHash, tempDir, uploadBytes, type Peer } from './helpers.ts';
import { UWSGI } from '../tools/tools.ts';

const UPLOAD_BYTES = 20 * MIB;
const DOWNLOAD_BYTES = 20_000_000;


let dir: Awaited<ReturnType<typeof tempDir>> | undefined;
const peers: Peer[] = [];

/** spry --socket on TCP and on a unix socket file, each behind both routers. */
const TRANSPORTS = ['tcp', 'unix'] as const;
type Transport = (typeof TRANSPORTS)[number];
const routerPorts: Record<Transport, { nginx?: number; uwsgi?: number }> = { tcp: {}, unix: {} };

async function startBehindRouters(transport: Transport): Promise<void> {
  // Each transport's routers and socket in a directory of their own (nginx keeps its files there).
  const home = join(dir!.path, transport);
  await mkdir(home);
  await chmod(dir!.path, 0o755); // nginx's workers (nobody) go through it to their files and the socket
  const socketPath = join(home, 'spry.sock');
  const spry = transport === 'tcp'
    ? await startSpryWith(['--socket', '127.0.0.1:0', '--module', './examples/testapp.ts:testApp'], /^spry: serving .* on uwsgi:\/\/127\.0\.0\.1:(\d+) /m)
    : await startSpryWith(['--socket', socketPath, '--chmod-socket', '--module', './examples/testapp.ts:testApp'], /^spry: serving .* on uwsgi\+unix:(\S+) /m);
  peers.push(spry);
  // nginx's uwsgi_pass and uWSGI's --http-to name a unix socket by unix:PATH and PATH.
  const nginxTarget = transport === 'tcp' ? `127.0.0.1:${spry.match![1]}` : `unix:${socketPath}`;
  const uwsgiTarget = transport === 'tcp' ? `127.0.0.1:${spry.match![1]}` : socketPath;
  const work: Promise<void>[] = [];
  if (!SKIP_NGINX) {
    work.push((async () => {
      const port = await freePort();
      peers.push(await startNginx(home, port, nginxTarget));
      routerPorts[transport].nginx = port;
    })());
  }
  if (!SKIP_UWSGI_ROUTER) {
    work.push((async () => {
      const port = await freePort();
      peers.push(
        await startPeer(`uwsgi --http :${port}`, UWSGI.path ?? 'uwsgi', ['--master', '--plugin', 'http', '--http', `127.0.0.1:${port}`, '--http-to', uwsgiTarget], {
          cwd: home,
          readyAddress: { host: '127.0.0.1', port },
          group: true,
          stopSignal: 'SIGINT',
        }),
      );
      routerPorts[transport].uwsgi = port;
    })());
  }
  const outcomes = await Promise.allSettled(work);
  for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
}

before(async () => {
  dir = await tempDir('spry-as-backend-');
  for (const transport of TRANSPORTS) await startBehindRouters(transport);
}, { timeout: 60_000 });

after(async () => {
  await Promise.all(peers.map((peer) => peer.stop()));
  await dir?.remove();
});

const ROUTERS = [
  { name: 'nginx (uwsgi_pass)', key: 'nginx', skip: SKIP_NGINX },
  { name: "uWSGI's HTTP router (uwsgi --master --plugin http --http … --http-to …)", key: 'uwsgi', skip: SKIP_UWSGI_ROUTER },
] as const;

const upload = uploadBytes(UPLOAD_BYTES);
const uploadSha256 = sha256(upload);
const downloadSha256 = sha256(patternBytes(DOWNLOAD_BYTES));

for (const transport of TRANSPORTS) for (const router of ROUTERS) {
  const where = transport === 'tcp' ? '127.0.0.1:0' : 'DIR/spry.sock (a unix socket)';
  describe(`spry --socket ${where} --module ./examples/testapp.ts:testApp behind ${router.name}`, { skip: router.skip, timeout: 60_000 }, () => {
    const port = (): number => routerPorts[transport][router.key]!;

    test('/environ.json answers with the REQUEST_METHOD, PATH_INFO and QUERY_STRING the router sent', async () => {
      const response = await plainRequest(port(), '/environ.json?a=1&b=two%20words', { headers: { 'x-from-client': 'yes' } });
      assert.equal(response.status, 200, response.body.toString());
      const env = JSON.parse(response.body.toString()) as Record<string, string>;
      assert.equal(env.REQUEST_METHOD, 'GET');
      assert.equal(env.PATH_INFO, '/environ.json');
      assert.equal(env.QUERY_STRING, 'a=1&b=two%20words');
      assert.equal(env.REQUEST_URI, '/environ.json?a=1&b=two%20words');
      assert.equal(env.HTTP_X_FROM_CLIENT, 'yes');
      assert.equal(env.SERVER_PROTOCOL, 'HTTP/1.1');
      assert.equal(env.REMOTE_ADDR, '127.0.0.1');
      assert.equal(env.SPDY, undefined);
    });

    test('a 20 MiB upload to /upload?format=json gets the right sha256', async () => {
      const response = await plainRequest(port(), '/upload?format=json', { method: 'POST', body: upload, headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(response.status, 200, response.body.toString().slice(0, 300));
      assert.deepEqual(JSON.parse(response.body.toString()), { bytes: UPLOAD_BYTES, sha256: uploadSha256 });
    });

    test('/bytes?n=20000000 arrives byte-exact', async () => {
      const hash = new StreamingHash();
      const response = await plainRequest(port(), `/bytes?n=${DOWNLOAD_BYTES}`, { onBody: hash.take });
      assert.equal(response.status, 200);
      assert.equal(response.headers['content-length'], String(DOWNLOAD_BYTES));
      assert.equal(hash.bytes, DOWNLOAD_BYTES);
      assert.equal(hash.digest(), downloadSha256);
    });

    test('a status and a HEAD request pass through', async () => {
      assert.equal((await plainRequest(port(), '/status/418')).status, 418);
      const head = await plainRequest(port(), '/bytes?n=5000', { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-length'], '5000');
      assert.equal(head.body.length, 0);
    });
  });
}
