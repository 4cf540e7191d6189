// --ini FILE: uWSGI's ini syntax, section [spry], the command line winning.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { parseCommandLine } from '../../src/cli/options.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spry-ini-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function iniFile(text: string): Promise<string> {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.ini`);
  await writeFile(path, text);
  return path;
}

describe('--ini FILE', () => {
  it('reads options from [spry], with repeated keys, flags and comments, ignoring other sections', async () => {
    const path = await iniFile(`
; a comment
[uwsgi]
processes = 9
[spry]
# listeners
https2 = addr=127.0.0.1:8443,spdy=1
https2 = addr=127.0.0.1:9443
http = 127.0.0.1:8080
module = ./examples/testapp.ts:testApp
master = true
processes = 3
http-timeout = 30
`);
    const config = await parseCommandLine(['--ini', path]);
    assert.deepEqual(config.https2.map((l) => l.source), ['addr=127.0.0.1:8443,spdy=1', 'addr=127.0.0.1:9443']);
    assert.deepEqual(config.http.map((l) => l.source), ['127.0.0.1:8080']);
    assert.equal(config.module?.source, './examples/testapp.ts:testApp');
    assert.equal(config.processes.master, true);
    assert.equal(config.processes.workers, 3);
    assert.equal(config.httpTimeoutMs, 30_000);
  });

  it('lets the command line replace an option the file also gives', async () => {
    const path = await iniFile('[spry]\nhttps2 = addr=127.0.0.1:8443\nmodule = ./a.ts\nprocesses = 3\n');
    const config = await parseCommandLine(['--ini', path, '--processes', '2', '--https2', 'addr=127.0.0.1:7443']);
    assert.equal(config.processes.workers, 2);
    assert.deepEqual(config.https2.map((l) => l.source), ['addr=127.0.0.1:7443']);
    assert.equal(config.module?.source, './a.ts');
  });

  it('names the file and line of an unknown option', async () => {
    const path = await iniFile('[spry]\nmodule = ./a.ts\nfrobnicate = 1\n');
    await assert.rejects(parseCommandLine(['--ini', path]), (error) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, `--ini ${path}:3: unknown option "frobnicate"`);
      return true;
    });
  });

  it('says so when the file cannot be read or has no [spry] section', async () => {
    await assert.rejects(parseCommandLine(['--ini', join(dir, 'missing.ini')]), /--ini: .*missing\.ini: cannot read \(ENOENT\)/);
    const path = await iniFile('[uwsgi]\nmodule = x\n');
    await assert.rejects(parseCommandLine(['--ini', path]), new RegExp(`--ini: ${path.replace(/[.]/g, '\\.')}: no \\[spry\\] section`));
  });
});
