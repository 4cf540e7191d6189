import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseKeyval } from '../../src/cli/keyval.ts';
import { ConfigError } from '../../src/errors.ts';

function configError(message: string): (error: unknown) => boolean {
  return (error) => error instanceof ConfigError && error.message === message;
}

describe('parseKeyval', () => {
  it('splits pairs on commas, in order', () => {
    assert.deepEqual(parseKeyval('--https2', 'addr=:8443,cert=a.crt,spdy=1'), [
      { key: 'addr', value: ':8443' },
      { key: 'cert', value: 'a.crt' },
      { key: 'spdy', value: '1' },
    ]);
  });

  it('reads addr==0 as addr with the value =0', () => {
    assert.deepEqual(parseKeyval('--https2', 'addr==0'), [{ key: 'addr', value: '=0' }]);
  });

  it('keeps later = signs in the value', () => {
    assert.deepEqual(parseKeyval('--https2', 'ciphers=A=B'), [{ key: 'ciphers', value: 'A=B' }]);
  });

  it('allows an empty value', () => {
    assert.deepEqual(parseKeyval('--https2', 'cert='), [{ key: 'cert', value: '' }]);
  });

  it('rejects an empty pair, naming the option and the whole keyval', () => {
    assert.throws(() => parseKeyval('--https2', 'addr=:1,,spdy=1'), configError('--https2: empty pair in "addr=:1,,spdy=1" (stray comma?)'));
    assert.throws(() => parseKeyval('--https2', 'addr=:1,'), configError('--https2: empty pair in "addr=:1," (stray comma?)'));
  });

  it('rejects a pair without =, naming it', () => {
    assert.throws(() => parseKeyval('--https2', 'addr=:1,spdy'), configError('--https2: "spdy" is not key=value'));
  });

  it('rejects a pair with no key', () => {
    assert.throws(() => parseKeyval('--cache2', '=5'), configError('--cache2: "=5" has no key before ='));
  });

  it('rejects an empty keyval', () => {
    assert.throws(() => parseKeyval('--https2', ''), /--https2: empty value/);
  });
});
