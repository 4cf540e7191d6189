// curl against a real spry process: --http2 and --http1.1 over the TLS port, --http1.1 and
// --http2-prior-knowledge over the plain port. Each reads the environment, downloads 20 MiB and
// uploads a file, and each checks which protocol curl says it spoke.

import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SpryProcess } from '../helpers/spry-process.ts';
import { assertEnvironFor, bytesPatternSha256, fileSha256, startSpryWithBothListeners, writeRandomFile, type Transport } from './fixtures.ts';
import { CURL, assertExitedOk, runTool } from './tools.ts';

const DOWNLOAD_BYTES = 20 * 1024 * 1024;
// Not a multiple of any frame or chunk size, so a lost or doubled tail shows.
const UPLOAD_BYTES = 5 * 1024 * 1024 + 12_345;
const CURL_TIMEOUT_MS = 20_000;

interface CurlTransport extends Transport {
  readonly flags: readonly string[];
  /** What curl's %{http_version} prints. */
  readonly curlVersion: string;
}

const TRANSPORTS: readonly CurlTransport[] = [
  { scheme: 'https', h2: true, flags: ['--http2', '-k'], curlVersion: '2' },
  { scheme: 'https', h2: false, flags: ['--http1.1', '-k'], curlVersion: '1.1' },
  { scheme: 'http', h2: false, flags: ['--http1.1'], curlVersion: '1.1' },
  { scheme: 'http', h2: true, flags: ['--http2-prior-knowledge'], curlVersion: '2' },
];

let spry: SpryProcess;
let dir: string;
let uploadPath: string;
let uploadSha256: string;

before(async () => {
  if (CURL.skip) return;
  dir = await mkdtemp(join(tmpdir(), 'spry-curl-'));
  uploadPath = join(dir, 'upload.bin');
  [spry, uploadSha256] = await Promise.all([startSpryWithBothListeners(), writeRandomFile(uploadPath, UPLOAD_BYTES)]);
}, { timeout: 30_000 });

after(async () => {
  await spry?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Runs curl with `-sS --fail`; resolves with stdout, whose last line is the -w output. */
async function curl(args: readonly string[]): Promise<{ body: string; writeOut: string }> {
  const result = await runTool(CURL, ['-sS', '--fail', ...args], { timeoutMs: CURL_TIMEOUT_MS });
  assertExitedOk(result, `curl ${args.join(' ')}`);
  const stdout = result.stdout.toString('utf8');
  const lastNewline = stdout.lastIndexOf('\n');
  return { body: stdout.slice(0, Math.max(lastNewline, 0)), writeOut: stdout.slice(lastNewline + 1) };
}

for (const transport of TRANSPORTS) {
  const curlCommand = `curl ${transport.flags.join(' ')}`;
  const over = transport.scheme === 'https' ? 'the TLS port' : 'the --http port';

  describe(`${curlCommand} over ${over}`, { skip: CURL.skip }, () => {
    const origin = () => spry.listener(transport.scheme).origin;

    test(`speaks HTTP/${transport.curlVersion} and the app sees ${transport.h2 ? 'HTTP/2.0 with HTTP2=on' : 'HTTP/1.1'}, no SPDY`, async () => {
      const { body, writeOut } = await curl([...transport.flags, '-w', '\n%{http_version}', `${origin()}/environ.json`]);
      assert.equal(writeOut, transport.curlVersion);
      const env = JSON.parse(body) as Record<string, string>;
      assertEnvironFor(env, transport, spry.listener(transport.scheme).port);
      assert.match(env.HTTP_USER_AGENT, /^curl\//);
    });

    test('downloads 20 MiB with every byte in place', async () => {
      const output = join(dir, `download-${transport.scheme}-${transport.curlVersion}.bin`);
      const { writeOut } = await curl([...transport.flags, '-o', output, '-w', '\n%{http_version} %{size_download}', `${origin()}/bytes?n=${DOWNLOAD_BYTES}`]);
      assert.equal(writeOut, `${transport.curlVersion} ${DOWNLOAD_BYTES}`);
      assert.equal((await stat(output)).size, DOWNLOAD_BYTES);
      assert.equal(await fileSha256(output), bytesPatternSha256(DOWNLOAD_BYTES));
      await rm(output);
    });

    test('uploads a file with --data-binary @file and the app hashes exactly those bytes', async () => {
      const { body, writeOut } = await curl([
        ...transport.flags,
        '--data-binary', `@${uploadPath}`,
        '-H', 'content-type: application/octet-stream',
        '-w', '\n%{http_version} %{size_upload}',
        `${origin()}/upload?format=json`,
      ]);
      assert.equal(writeOut, `${transport.curlVersion} ${UPLOAD_BYTES}`);
      assert.deepEqual(JSON.parse(body), { bytes: UPLOAD_BYTES, sha256: uploadSha256 });
    });
  });
}
