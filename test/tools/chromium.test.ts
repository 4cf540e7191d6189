// Headless Chromium opens the test app on spry's TLS port. Chromium settles on h2 by ALPN; the
// page it renders must say so, in the #protocol element and in the environment table (read from
// the DOM Chromium dumps, not from pixels).

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SpryProcess } from '../helpers/spry-process.ts';
import { startSpryWithBothListeners } from './fixtures.ts';
import { CHROMIUM, assertExitedOk, runTool } from './tools.ts';

const CHROMIUM_TIMEOUT_MS = 30_000;

let spry: SpryProcess;
let profileDir: string;

before(async () => {
  if (CHROMIUM.skip) return;
  profileDir = await mkdtemp(join(tmpdir(), 'spry-chromium-'));
  spry = await startSpryWithBothListeners();
}, { timeout: 30_000 });

after(async () => {
  await spry?.stop();
  if (profileDir !== undefined) await rm(profileDir, { recursive: true, force: true });
});

/** The serialised DOM after load, as `chromium --headless --dump-dom URL` prints it. */
async function dumpDom(url: string): Promise<string> {
  const args = [
    '--headless=new',
    // Root (as in CI containers) cannot use Chromium's sandbox.
    '--no-sandbox',
    '--disable-gpu',
    // Containers often have a 64 MiB /dev/shm; Chromium then crashes on shared memory.
    '--disable-dev-shm-usage',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profileDir}`,
    // spry's self-signed certificate for localhost.
    '--ignore-certificate-errors',
    '--dump-dom',
    url,
  ];
  // HOME in the throwaway profile: Chromium also writes ~/.pki and ~/.cache.
  let result: Awaited<ReturnType<typeof runTool>>;
  try {
    result = await runTool(CHROMIUM, args, { timeoutMs: CHROMIUM_TIMEOUT_MS, env: { ...process.env, HOME: profileDir } });
  } catch (error) {
    // Whether spry saw and answered the request (its access lines) tells a stuck browser from a stuck server.
    throw new Error(`${(error as Error).message}\nspry's stderr:\n${spry.stderr().slice(-3000)}`, { cause: error });
  }
  assertExitedOk(result, 'chromium --headless=new --dump-dom');
  return result.stdout.toString('utf8');
}

/** The text content of the element with id `id` (no nested elements expected). */
function textOfId(html: string, id: string): string | undefined {
  const match = new RegExp(`<(\\w+)[^>]*\\sid="${id}"[^>]*>([^<]*)</\\1>`).exec(html);
  return match === null ? undefined : decodeEntities(match[2]);
}

/** The test app's environment table: `<th data-key="K">K</th><td>V</td>` rows of table#environ. */
function environTable(html: string): Record<string, string> {
  const table = /<table[^>]*\sid="environ"[^>]*>([\s\S]*?)<\/table>/.exec(html);
  assert.ok(table !== null, `no table#environ in the DOM:\n${html.slice(0, 4000)}`);
  const env: Record<string, string> = {};
  for (const row of table[1].matchAll(/<th[^>]*\sdata-key="([^"]*)"[^>]*>[\s\S]*?<\/th>\s*<td[^>]*>([\s\S]*?)<\/td>/g)) {
    env[decodeEntities(row[1])] = decodeEntities(row[2]);
  }
  return env;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", nbsp: '\u00a0' };

function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, name: string) => ENTITIES[name]);
}

describe('headless Chromium on the TLS port', { skip: CHROMIUM.skip }, () => {
  test('negotiates h2, and the page shows HTTP/2 in #protocol and HTTP2=on, SERVER_PROTOCOL HTTP/2.0 in its environment', { timeout: CHROMIUM_TIMEOUT_MS + 10_000 }, async () => {
    const { origin, port } = spry.listener('https');
    const html = await dumpDom(`${origin}/`);
    assert.match(html, /<title>spry test app<\/title>/, `not the test app's page:\n${html.slice(0, 2000)}`);
    assert.match(textOfId(html, 'protocol') ?? '(no #protocol)', /^HTTP\/2 \(stream [1-9]\d*\)$/);

    const env = environTable(html);
    assert.equal(env.HTTP2, 'on');
    assert.equal(env.SERVER_PROTOCOL, 'HTTP/2.0');
    assert.equal(env.HTTPS, 'on');
    assert.equal(env.UWSGI_SCHEME, 'https');
    assert.equal(env.SERVER_PORT, String(port));
    assert.equal(env.REQUEST_METHOD, 'GET');
    assert.equal(env.PATH_INFO, '/');
    assert.match(env.HTTP_USER_AGENT ?? '', /HeadlessChrome\//);
    assert.equal(env.SPDY, undefined);
  });
});
