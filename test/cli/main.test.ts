// End to end: spawn bin/spry.ts and check what a user sees for each kind of mistake: status 2 and
// exactly one stderr line naming the culprit, with nothing on stdout.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertConfigError, runSpry } from './run-spry.ts';

const MODULE = ['--module', './examples/testapp.ts:testApp'];

describe('spry on the command line', () => {
  it('names an unknown option', async () => {
    await assertConfigError(['--frobnicate', '--https2', 'addr=:8443', ...MODULE], '--frobnicate: unknown option');
  });

  it('names a malformed keyval pair', async () => {
    await assertConfigError(['--https2', 'addr=:8443,spdy', ...MODULE], '--https2: "spdy" is not key=value');
  });

  it('names an unknown --https2 key', async () => {
    await assertConfigError(['--https2', 'addr=:8443,certificate=x.pem', ...MODULE], /^spry: --https2: unknown key "certificate" \(known: /);
  });

  it('names a missing cert file and why it cannot be read', async () => {
    await assertConfigError(['--https2', 'addr=:8443,cert=/x/y.crt,key=/x/y.key', ...MODULE], '--https2: cert=/x/y.crt: cannot read (ENOENT)');
  });

  it('says cert= needs key=', async () => {
    await assertConfigError(['--https2', 'addr=:8443,cert=/x/y.crt', ...MODULE], '--https2: cert= given without key=');
  });

  it('names a bad port', async () => {
    await assertConfigError(['--https2', 'addr=127.0.0.1:70000', ...MODULE], '--https2: addr=127.0.0.1:70000: port must be a number from 0 to 65535');
  });

  it('says at least one listener is required', async () => {
    await assertConfigError(MODULE, '--https2: at least one --https2 or --http listener is required (e.g. --https2 addr=:8443)');
  });

  it('says --module is required', async () => {
    await assertConfigError(['--https2', 'addr=:8443'], /^spry: --module: required/);
  });

  it('names a bad --http-timeout', async () => {
    await assertConfigError(['--https2', 'addr=:8443', ...MODULE, '--http-timeout=soon'],
      '--http-timeout: "soon": must be a whole number of seconds from 1 to 2147483');
  });

  it('names a --cache2 without name=', async () => {
    await assertConfigError(['--cache2', 'items=10', '--https2', 'addr=127.0.0.1:0', ...MODULE], '--cache2: "items=10" has no name= (e.g. name=assets,items=100)');
  });

  it('names a reference to a shared socket that does not exist', async () => {
    await assertConfigError(['--shared-socket', '127.0.0.1:0', '--https2', 'addr==1', ...MODULE], '--https2: addr==1: =1 names no shared socket (there is 1: =0)');
  });

  it('names an unknown --uid user', async () => {
    await assertConfigError(['--https2', 'addr=127.0.0.1:0', ...MODULE, '--uid', 'no-such-user-spry'], '--uid: unknown user "no-such-user-spry"');
  });

  it('names an option missing its value', async () => {
    await assertConfigError(['--https2'], '--https2: needs a value');
  });

  it('prints usage on --help and exits 0', async () => {
    const run = await runSpry(['--help']);
    assert.equal(run.status, 0);
    assert.equal(run.stderr, '');
    assert.match(run.stdout, /^Usage: spry /);
    assert.match(run.stdout, /--https2 KEYVAL +TLS router/);
    assert.match(run.stdout, /-p, --workers, --processes N +run N workers/);
    assert.match(run.stdout, /--cache2 KEYVAL +in-memory LRU cache/);
    assert.match(run.stdout, /--write-buffer N +response bytes buffered/);
    assert.match(run.stdout, /\n {2}cert, crt +PEM certificate/);
  });

  it('prints the package version on --version', async () => {
    const run = await runSpry(['--version']);
    assert.equal(run.status, 0);
    assert.match(run.stdout, /^spry \d+\.\d+\.\d+\n$/);
  });
});
