// The edge's options as a user mistypes them: one line naming the culprit, exit status 2.

import { describe, it } from 'node:test';
import { assertConfigError } from './run-spry.ts';

const BASE = ['--https2', 'addr=127.0.0.1:0', '--module', './examples/testapp.ts:testApp'];

describe('edge options on the command line', () => {
  it('refuses a --static-map to a directory that does not exist', () =>
    assertConfigError([...BASE, '--static-map', '/s=/no/such/dir'], '--static-map: /no/such/dir: no such directory'));
  it('refuses a --static-map that is not /URL=DIR', () =>
    assertConfigError([...BASE, '--static-map', 'static=.'], '--static-map: "static=." is not /URL=DIR'));
  it('refuses a --check-static that is a file', () =>
    assertConfigError([...BASE, '--check-static', 'package.json'], '--check-static: package.json: not a directory'));
  it('refuses a --static-index with a slash', () =>
    assertConfigError([...BASE, '--static-index', '../index.html'], '--static-index: "../index.html": must be a file name'));
  it('refuses a --static-expires-uri that is not a regular expression', () =>
    assertConfigError([...BASE, '--static-expires-uri', '(=60'], '--static-expires-uri: "(" is not a regular expression'));
  it('refuses --harakiri 0', () =>
    assertConfigError([...BASE, '--harakiri', '0'], /^spry: --harakiri: "0": must be a whole number of seconds from 1 to/));
  it('refuses a --limit-post that is not a number, as an option and as an --https2 key', async () => {
    await assertConfigError([...BASE, '--limit-post', '1M'], /^spry: --limit-post: "1M": must be a whole number of bytes/);
    await assertConfigError(['--https2', 'addr=127.0.0.1:0,limit-post=x', '--module', './examples/testapp.ts:testApp'], /limit-post=x: must be a whole number of bytes/);
  });
  it('refuses --http-to-https without an --https2 listener', () =>
    assertConfigError(['--http', '127.0.0.1:0', '--module', './examples/testapp.ts:testApp', '--http-to-https'], '--http-to-https: needs an --https2 listener to send clients to'));
});
