// What `npm pack` publishes, installed into a fresh project as a user installs it
// (installed-package.ts) and used under Node 24 the three ways users use it: the `spry` bin,
// `import` (type-checked against the shipped .d.ts), and `require` from CommonJS.
//
// Every test of the installed package belongs in this file: the pack rebuilds the checkout's dist/.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connectClient, PROTOCOLS } from '../helpers/protocol-clients.ts';
import { SPRY_ROOT } from '../helpers/spry-command.ts';
import { headerValue } from '../../src/exchange/flat-headers.ts';
import { readBody, SpdyClient } from '../../src/spdy/client.ts';
import { nghttp } from '../push/h2-clients.ts';
import { NGHTTP } from '../tools/tools.ts';
import { startSpry } from '../helpers/spry-process.ts';
import { installedPackage, removeInstalledPackage, type InstalledPackage } from './installed-package.ts';

const TSC = join(SPRY_ROOT, 'node_modules/typescript/bin/tsc');
const TYPES = join(SPRY_ROOT, 'node_modules/@types');

let spry: InstalledPackage;
let version: string;

before(async () => {
  spry = await installedPackage();
  version = (JSON.parse(await readFile(join(SPRY_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}, { timeout: 180_000 });

after(removeInstalledPackage);

describe('the tarball npm pack makes', () => {
  test('holds the compiled JavaScript and its declarations, package.json and README.md, and no sources, tests, benchmarks or examples', () => {
    const tops = new Set(spry.tarballFiles.map((file) => file.split('/')[0]));
    assert.deepEqual([...tops].sort(), ['README.md', 'dist', 'package.json']);
    assert.ok(spry.tarballFiles.includes('dist/src/index.js'));
    assert.ok(spry.tarballFiles.includes('dist/src/index.d.ts'));
    assert.ok(spry.tarballFiles.includes('dist/bin/spry.js'));
    assert.ok(spry.tarballFiles.includes('dist/src/spdy/spdy3.dict'));
    assert.deepEqual(spry.tarballFiles.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts')), []);
    assert.deepEqual(spry.tarballFiles.filter((file) => /^dist\/(test|bench|examples|scripts)\//.test(file)), []);
  });

  test('depends on pako alone: node, typescript and the test peers stay devDependencies', () => {
    assert.deepEqual(Object.keys(spry.manifest.dependencies as object), ['pako']);
  });
});

describe('the installed spry bin (node_modules/.bin/spry)', () => {
  test(`prints its version for --version`, async () => {
    const result = await spry.run(spry.bin[0], ['--version']);
    assert.equal(result.stderr, '');
    assert.equal(result.stdout.trim(), `spry ${version}`);
    assert.equal(result.status, 0);
  });

  test('serves, from a forked worker, a --module app that reads a --cache2 entry through spry/cache, over every protocol of its TLS port', async () => {
    await spry.write('hello.txt', 'hello from the cache\n');
    await spry.write('app.js', [
      "import { cache } from 'spry/cache';",
      'export function app(req, res) {',
      "  const body = cache('pages').get(req.url);",
      '  res.writeHead(body === undefined ? 404 : 200, { \'content-type\': \'text/plain\' });',
      '  res.end(body ?? `not cached: ${req.url}`);',
      '}',
      '',
    ].join('\n'));
    const server = await startSpry([
      '--https2', 'addr=127.0.0.1:0,spdy=1', '--module', './app.js:app', '--master',
      '--cache2', 'name=pages,items=4', '--load-file-in-cache', 'pages /hello=hello.txt',
    ], { command: spry.bin, cwd: spry.dir, env: spry.env });
    try {
      const { host, port } = server.listener('https');
      for (const protocol of PROTOCOLS) {
        const client = await connectClient(protocol, { host, port });
        try {
          const response = await client.request({ path: '/hello' });
          assert.equal(response.status, 200, protocol);
          assert.equal(response.body.toString(), 'hello from the cache\n', protocol);
        } finally {
          await client.close();
        }
      }
    } finally {
      assert.equal(await server.stop(), 0, server.stderr());
    }
  });
});

describe("createServer from the installed package, serving an unmodified Express app", () => {
  // Express comes from the checkout (the project is installed offline); spry from the tarball.
  const EXPRESS = pathToFileURL(join(SPRY_ROOT, 'node_modules/express/index.js')).href;
  let server: ChildProcess | undefined;
  let port: number;

  before(async () => {
    await spry.write('express-server.mjs', [
      "import { createServer } from 'spry';",
      `import express from ${JSON.stringify(EXPRESS)};`,
      'const app = express();',
      "app.get('/hello', (req, res) => {",
      "  res.push('/pushed.js', { response: { 'content-type': 'text/javascript' } }).end('pushed();');",
      "  res.json({ hello: 'express', httpVersion: req.httpVersion, isSpdy: req.isSpdy ?? false });",
      '});',
      'const server = createServer({}, app);',
      "server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));",
      "process.on('SIGTERM', () => server.close(() => process.exit(0)));",
      '',
    ].join('\n'));
    server = spawn(process.execPath, ['express-server.mjs'], { cwd: spry.dir, env: spry.env, stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(server.stdout!.setEncoding('utf8'), 'data')) as [string];
    port = Number(/^listening (\d+)/.exec(line)?.[1]);
    assert.ok(port > 0, line);
  });
  after(async () => {
    if (server === undefined || server.exitCode !== null) return;
    const exited = once(server, 'exit');
    server.kill('SIGTERM');
    assert.deepEqual(await exited, [0, null]);
  });

  for (const protocol of PROTOCOLS) {
    test(`over ${protocol}`, async () => {
      const client = await connectClient(protocol, { host: '127.0.0.1', port });
      try {
        const response = await client.request({ path: '/hello' });
        assert.equal(response.status, 200);
        assert.deepEqual(JSON.parse(response.body.toString()), { hello: 'express', httpVersion: protocol === 'h2' ? '2.0' : '1.1', isSpdy: protocol.startsWith('spdy') });
      } finally {
        await client.close();
      }
    });
  }

  test("res.push() is seen by nghttp as a PUSH_PROMISE", { skip: NGHTTP.skip }, async () => {
    const run = await nghttp(`https://127.0.0.1:${port}/hello`);
    assert.equal(run.status, 200, run.output);
    assert.deepEqual(run.promised, ['/pushed.js'], run.output);
  });

  test('res.push() is seen by our SPDY client as a push stream with its body', async () => {
    const client = await SpdyClient.connect({ host: '127.0.0.1', port, protocol: 'spdy/3.1' });
    try {
      const pushed = once(client.session, 'push');
      const page = await client.request('/hello');
      assert.equal(page.status, 200);
      const [stream, headers] = (await pushed) as [Parameters<typeof readBody>[0], string[]];
      assert.equal(headerValue(headers, ':path'), '/pushed.js');
      assert.equal((await readBody(stream)).toString(), 'pushed();');
    } finally {
      client.session.destroy();
    }
  });
});

describe('import from spry and spry/cache in a strict TypeScript project', () => {
  test('type-checks against the shipped declarations (tsc --noEmit, strict, nodenext, library checks on)', async () => {
    await spry.write('tsconfig.json', JSON.stringify({
      compilerOptions: {
        strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2024', lib: ['es2024'],
        noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [TYPES],
      },
      files: ['uses-spry.ts'],
    }));
    await spry.write('uses-spry.ts', [
      "import { cache, cacheNames, ConfigError, createServer, ErrorCodes, SpryError, type ErrorCode, type SpryCache, type SpryServer } from 'spry';",
      "import { cache as cacheEntry } from 'spry/cache';",
      "import type { IncomingMessage, ServerResponse } from 'node:http';",
      '',
      'const names: readonly string[] = cacheNames();',
      "const pages: SpryCache = names.length > 0 ? cache(names[0]) : cacheEntry('pages');",
      "const page: Buffer | undefined = pages.get('/index.html');",
      "const written: Promise<void> = pages.set('/index.html', Buffer.from('<p>hi</p>'), { contentType: 'text/html', expires: 60 });",
      "const code: ErrorCode = 'SPRY_ERR_CACHE';",
      'const meaning: string = ErrorCodes[code];',
      'function describe(error: unknown): string {',
      '  if (error instanceof ConfigError) return error.option;',
      '  return error instanceof SpryError ? error.code : String(error);',
      '}',
      "const server: SpryServer = createServer({ spdy: { protocols: ['h2', 'spdy/3.1', 'http/1.1'] } }, (req: IncomingMessage, res: ServerResponse) => res.end(req.url));",
      'const protocols: readonly string[] = server.protocols;',
      "const inferred: SpryServer = createServer({ plain: true }, (req, res) => { res.setHeader('x-url', req.url ?? ''); res.push('/a.js').end('a'); res.end(String(req.isSpdy)); });",
      "const fetchStyle: SpryServer = createServer((request: Request) => new Response(request.url));",
      "const bare: SpryServer = createServer();",
      '// @ts-expect-error a cache name is a string',
      'cache(42);',
      '// @ts-expect-error codes are a closed list',
      "const unknown: ErrorCode = 'SPRY_ERR_NOPE';",
      'export { page, written, meaning, describe, unknown, protocols, inferred, fetchStyle, bare };',
      '',
    ].join('\n'));
    const result = await spry.node([TSC, '-p', spry.dir]);
    assert.equal(result.stdout + result.stderr, '');
    assert.equal(result.status, 0);
  });
});

describe("require('spry') from CommonJS (Node's require of an ES module)", () => {
  test('gives the same exports as import, and spry/cache the same cache function', async () => {
    await spry.write('uses-spry.cjs', [
      "const spry = require('spry');",
      "const { cache } = require('spry/cache');",
      'console.log(JSON.stringify({ exports: Object.keys(spry).sort(), sameCache: spry.cache === cache }));',
      '',
    ].join('\n'));
    await spry.write('uses-spry.mjs', [
      "import * as spry from 'spry';",
      'console.log(JSON.stringify(Object.keys(spry).sort()));',
      '',
    ].join('\n'));
    const required = await spry.node(['uses-spry.cjs']);
    assert.equal(required.stderr, '');
    assert.equal(required.status, 0);
    const imported = await spry.node(['uses-spry.mjs']);
    assert.equal(imported.status, 0, imported.stderr);
    const exports = JSON.parse(imported.stdout) as string[];
    assert.ok(exports.includes('cache') && exports.includes('SpryError'), imported.stdout);
    assert.deepEqual(JSON.parse(required.stdout), { exports, sameCache: true });
  });
});
