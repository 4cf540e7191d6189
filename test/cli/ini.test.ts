// --ini FILE reads uWSGI's ini files as uWSGI does: [uwsgi] (or FILE:section), then [spry] when
// present (it wins), $(VAR), %(key), magic variables, repeated keys, `ini =` includes; uWSGI keys
// spry lacks warn, or stop startup where they change what is served; the command line wins.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { parseCommandLine } from '../../src/cli/options.ts';
import { assertConfigError, runSpry } from './run-spry.ts';
import { startSpry } from '../helpers/spry-process.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spry-ini-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function iniFile(text: string, name = `${Math.random().toString(36).slice(2)}.ini`): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('--ini FILE', () => {
  it('reads [uwsgi], with repeated keys, flags (bare or = true) and comments, ignoring other sections', async () => {
    const path = await iniFile(`
; a comment
[other]
processes = 9
[uwsgi]
# listeners
https2 = addr=127.0.0.1:8443,spdy=1
https2 = addr=127.0.0.1:9443
http-socket = 127.0.0.1:8080
module = ./examples/testapp.ts:testApp
master
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

  it('reads [spry] after [uwsgi]: its options replace [uwsgi]\'s, the others stay', async () => {
    const path = await iniFile('[uwsgi]\nhttp = 127.0.0.1:8080\nprocesses = 4\nmodule = ./a.ts\n[spry]\nprocesses = 2\nhttps2 = addr=127.0.0.1:8443\n');
    const config = await parseCommandLine(['--ini', path]);
    assert.equal(config.processes.workers, 2);
    assert.deepEqual(config.http.map((l) => l.source), ['127.0.0.1:8080']);
    assert.deepEqual(config.https2.map((l) => l.source), ['addr=127.0.0.1:8443']);
  });

  it('reads the section FILE:NAME names instead', async () => {
    const path = await iniFile('[uwsgi]\nprocesses = 4\nmodule = ./a.ts\nhttp = :1\n[staging]\nmodule = ./b.ts\nhttp = 127.0.0.1:8081\n');
    const config = await parseCommandLine(['--ini', `${path}:staging`]);
    assert.equal(config.module?.source, './b.ts');
    assert.equal(config.processes.workers, 1);
    await assert.rejects(parseCommandLine(['--ini', `${path}:nope`]), /no \[nope\] section/);
  });

  it('expands $(VAR) from the environment, %(key) from keys set before (placeholders too), and %d, %n, %%', async () => {
    process.env.SPRY_INI_TEST_PORT = '8099';
    const path = await iniFile('[uwsgi]\nbase = 127.0.0.1\nhttp = %(base):$(SPRY_INI_TEST_PORT)\nmodule = %dapp.ts:%n\npidfile = /tmp/%n-100%%.pid\n', 'site.ini');
    const config = await parseCommandLine(['--ini', path]);
    assert.deepEqual(config.http.map((l) => l.source), ['127.0.0.1:8099']);
    assert.equal(config.module?.source, `${dir}/app.ts:site`);
    assert.equal(config.processes.pidfile, '/tmp/site-100%.pid');
    delete process.env.SPRY_INI_TEST_PORT;
    const unknown = await iniFile('[uwsgi]\nhttp = %(nowhere):1\n');
    await assert.rejects(parseCommandLine(['--ini', unknown]), (error) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, `--ini ${unknown}:2: %(nowhere) names no key set before it`);
      return true;
    });
  });

  it('includes another file where `ini = FILE[:section]` stands, and refuses an include loop', async () => {
    const common = await iniFile('[uwsgi]\nmaster = true\nprocesses = 2\n[extra]\nhttp = 127.0.0.1:8082\n');
    const path = await iniFile(`[uwsgi]\nini = ${common}\nini = ${common}:extra\nmodule = ./a.ts\nprocesses = 5\n`);
    const config = await parseCommandLine(['--ini', path]);
    assert.equal(config.processes.master, true);
    assert.equal(config.processes.workers, 5, 'a key after the include wins, as the later value');
    assert.deepEqual(config.http.map((l) => l.source), ['127.0.0.1:8082']);
    const loop = join(dir, 'loop.ini');
    await writeFile(loop, `[uwsgi]\nini = ${loop}\n`);
    await assert.rejects(parseCommandLine(['--ini', loop]), /includes nest deeper than 16 \(a loop\?\)/);
  });

  it('lets the command line replace an option the file also gives', async () => {
    const path = await iniFile('[uwsgi]\nhttps2 = addr=127.0.0.1:8443\nmodule = ./a.ts\nprocesses = 3\n');
    const config = await parseCommandLine(['--ini', path, '--processes', '2', '--https2', 'addr=127.0.0.1:7443']);
    assert.equal(config.processes.workers, 2);
    assert.deepEqual(config.https2.map((l) => l.source), ['addr=127.0.0.1:7443']);
    assert.equal(config.module?.source, './a.ts');
  });

  it('stops on a uWSGI key that changes what is served, naming the file, line and key (exit 2)', async () => {
    const path = await iniFile('[uwsgi]\nhttp = 127.0.0.1:0\nmodule = ./examples/testapp.ts:testApp\nroute = ^/old redirect:/new\n');
    await assertConfigError(['--ini', path], `--ini ${path}:4: route is a uWSGI option spry does not implement, and serving without it would serve something else`);
  });

  it('says so when the file cannot be read or has neither [uwsgi] nor [spry]', async () => {
    await assert.rejects(parseCommandLine(['--ini', join(dir, 'missing.ini')]), /--ini: .*missing\.ini: cannot read \(ENOENT\)/);
    const path = await iniFile('[app]\nmodule = x\n');
    await assert.rejects(parseCommandLine(['--ini', path]), new RegExp(`--ini: ${path.replace(/[.]/g, '\\.')}: no \\[uwsgi\\] or \\[spry\\] section`));
  });
});

describe('a uWSGI ini file as uWSGI\'s docs write one, run as it is', () => {
  it('serves, with one warning line per uWSGI key it ignores, and none for the file\'s own placeholders', async () => {
    const path = await iniFile([
      '[uwsgi]',
      'project = testapp',
      'base = %d',
      'http-socket = 127.0.0.1:0',
      'module = ./examples/%(project).ts:testApp',
      'master = true',
      'processes = 1',
      'vacuum = true',  // spry's own option now: no warning
      'die-on-term = true',
      'enable-threads = true',
      'buffer-size = 32768',
      '',
    ].join('\n'));
    const spry = await startSpry(['--ini', path], { listeners: 1 });
    try {
      const response = await fetch(`http://127.0.0.1:${spry.listener('http').port}/environ.json`);
      assert.equal(response.status, 200);
      const warnings = spry.stderr().split('\n').filter((line) => line.includes('does not implement'));
      assert.deepEqual(warnings.map((line) => /:(\d+): (\S+) is a uWSGI option/.exec(line)?.slice(1).join(' ')), ['9 die-on-term', '10 enable-threads', '11 buffer-size']);
    } finally {
      await spry.stop();
    }
  });

  it('warns that an unset $(VAR) reads as empty, naming the file and line', async () => {
    delete process.env.SPRY_INI_UNSET;
    // No listener: startup stops after the file is read, so the run ends by itself.
    const path = await iniFile('[uwsgi]\nmodule = ./examples/testapp.ts:testApp$(SPRY_INI_UNSET)\n');
    const run = await runSpry(['--ini', path]);
    assert.equal(run.status, 2);
    assert.ok(run.stderr.split('\n').includes(`spry: --ini ${path}:2: $(SPRY_INI_UNSET) is not set; it reads as empty`), run.stderr);
  });
});
