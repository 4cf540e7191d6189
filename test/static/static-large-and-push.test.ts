// Static files at size and pushed: a 256 MiB (sparse, temporary) file goes out over h2, spdy/3.1
// (within its flow control) and HTTP/1.1 (read ahead) with spry's resident memory steady, sampled
// as the body arrives; a file of several read chunks comes back byte for byte, whole and a range
// across chunks; a page's `Link: rel=preload` to a mapped file is pushed on h2 and spdy/3.1 (no
// --cache2 at all), once per connection; curl and nghttp fetch mapped files byte for byte.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readBody, SpdyClient } from '../../src/spdy/client.ts';
import { residentBytes } from '../helpers/proc-memory.ts';
import { connectClient, type ProtocolName } from '../helpers/protocol-clients.ts';
import { header } from '../helpers/raw-spdy-peer.ts';
import { startSpry, TEST_APP_ARGS, type SpryProcess } from '../helpers/spry-process.ts';
import { xorshiftBytes } from '../helpers/xorshift-bytes.ts';
import { connectH2 } from '../push/h2-clients.ts';
import { CURL, NGHTTP, runTool } from '../tools/tools.ts';

const LARGE_BYTES = 256 << 20;
/**
 * Far below the file: a server that held it (or half of it) would be past this. What it allows
 * is garbage: read chunks are freed by GC, not at once.
 */
const MEMORY_GROWTH_BOUND = 96 << 20;
/**
 * Once the first quarter is out, memory must stop following the bytes sent: the last three
 * quarters are 192 MiB, so a pump that ignored backpressure would grow by about that much. The
 * bound leaves room for what the allocator keeps between collections on a loaded machine
 * (47 MiB was seen there, against under 32 MiB on a quiet one).
 */
const LATE_GROWTH_BOUND = 64 << 20;
/** Three and a half of HTTP/1.1's 1 MiB reads, fourteen of SPDY's 256 KiB ones. */
const CHUNKS = xorshiftBytes((7 << 20) / 2, 11);
const STYLE = Buffer.from('h1 { color: teal }\n');
const SCRIPT = Buffer.from('document.getElementById("status").textContent = "pushed";\n');

describe('static files at size, and pushed', () => {
  let dir: string;
  let spry: SpryProcess;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spry-static-large-'));
    writeFileSync(join(dir, 'large.bin'), '');
    truncateSync(join(dir, 'large.bin'), LARGE_BYTES); // sparse: costs no disk
    writeFileSync(join(dir, 'chunks.bin'), CHUNKS);
    writeFileSync(join(dir, 'style.css'), STYLE);
    writeFileSync(join(dir, 'app.js'), SCRIPT);
    // The test app's /push page links /static/style.css and /static/app.js.
    spry = await startSpry(['--https2', 'addr=127.0.0.1:0,spdy=1', ...TEST_APP_ARGS, '--static-map', `/static=${dir}`]);
  });
  after(async () => {
    await spry?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  for (const protocol of ['h2', 'spdy/3.1', 'http/1.1'] as readonly ProtocolName[]) {
    it(`sends a 256 MiB file over ${protocol} with spry's memory steady`, async () => {
      const client = await connectClient(protocol, spry.listener('https'));
      const pid = spry.child.pid!;
      const baseline = residentBytes(pid);
      let received = 0;
      let nonZero = 0;
      let peak = baseline;
      let atQuarter = 0;
      let nextSample = 0;
      try {
        const response = await client.request({
          path: '/static/large.bin',
          onBody: (chunk) => {
            received += chunk.length;
            if (chunk.some((byte) => byte !== 0)) nonZero++;
            if (received >= nextSample) {
              peak = Math.max(peak, residentBytes(pid));
              if (received >= LARGE_BYTES / 4 && atQuarter === 0) atQuarter = peak;
              nextSample += 16 << 20;
            }
          },
        });
        assert.equal(response.status, 200);
      } finally {
        await client.close();
      }
      assert.equal(received, LARGE_BYTES);
      assert.equal(nonZero, 0, 'a sparse file reads as zeros');
      const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
      assert.ok(peak - baseline < MEMORY_GROWTH_BOUND, `resident memory grew ${mib(peak - baseline)}`);
      assert.ok(peak - atQuarter < LATE_GROWTH_BOUND, `resident memory grew ${mib(peak - atQuarter)} after the first quarter`);
    });
  }

  for (const protocol of ['h2', 'spdy/3.1', 'http/1.1'] as readonly ProtocolName[]) {
    it(`sends a file of several read chunks over ${protocol} byte for byte, whole and a range across chunks`, async () => {
      const client = await connectClient(protocol, spry.listener('https'));
      try {
        const whole = await client.request({ path: '/static/chunks.bin' });
        assert.equal(whole.status, 200);
        assert.ok(whole.body.equals(CHUNKS), 'the whole file differs');
        const [first, last] = [(1 << 20) - 5, (3 << 20) + 5];
        const range = await client.request({ path: '/static/chunks.bin', headers: [['range', `bytes=${first}-${last}`]] });
        assert.equal(range.status, 206);
        assert.ok(range.body.equals(CHUNKS.subarray(first, last + 1)), 'the range differs');
      } finally {
        await client.close();
      }
    });
  }

  it('pushes the mapped files a page links to over h2, once per connection', async () => {
    const client = await connectH2(spry.listener('https').origin);
    try {
      await client.get('/push');
      assert.deepEqual(client.pushes.map((push) => push.path).sort(), ['/static/app.js', '/static/style.css']);
      const style = client.pushes.find((push) => push.path === '/static/style.css')!;
      const pushed = await style.response;
      assert.deepEqual(pushed.body, STYLE);
      await client.get('/push');
      assert.equal(client.pushes.length, 2, 'nothing pushed twice on one connection');
    } finally {
      client.close();
    }
  });

  it('pushes them over spdy/3.1 with a SYN_STREAM and the file as its body', async () => {
    const { host, port } = spry.listener('https');
    const client = await SpdyClient.connect({ host, port, protocol: 'spdy/3.1' });
    try {
      const pushes: Promise<[string, Buffer]>[] = [];
      client.session.on('push', (stream, headers) => pushes.push(readBody(stream).then((body) => [header(headers, ':path') ?? '', body])));
      await readBody(client.open('/push'));
      const got = (await Promise.all(pushes)).sort(([a], [b]) => a.localeCompare(b));
      assert.deepEqual(got, [['/static/app.js', SCRIPT], ['/static/style.css', STYLE]]);
    } finally {
      await client.close();
    }
  });

  it('serves a mapped file to curl over h2 and to nghttp, byte for byte', { skip: CURL.skip || NGHTTP.skip }, async () => {
    const url = `${spry.listener('https').origin}/static/style.css`;
    const curl = await runTool(CURL, ['-sk', '--http2', url], { timeoutMs: 10_000 });
    assert.deepEqual(curl.stdout, STYLE);
    const nghttp = await runTool(NGHTTP, ['-n', '-s', url], { timeoutMs: 10_000 });
    assert.equal(nghttp.status, 0, nghttp.stderr);
    const ranged = await runTool(CURL, ['-sk', '--http2', '-r', '3-6', url], { timeoutMs: 10_000 });
    assert.deepEqual(ranged.stdout, STYLE.subarray(3, 7));
  });
});
