import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tokenizeArgv, type ArgvOptionShape } from '../../src/cli/argv.ts';
import { ConfigError } from '../../src/errors.ts';

const SHAPES: readonly ArgvOptionShape[] = [
  { name: 'https2', aliases: [], takesValue: true },
  { name: 'module', aliases: [], takesValue: true },
  { name: 'processes', aliases: ['-p'], takesValue: true },
  { name: 'master', aliases: [], takesValue: false },
];

function configError(message: string): (error: unknown) => boolean {
  return (error) => error instanceof ConfigError && error.message === message;
}

describe('tokenizeArgv', () => {
  it('reads --name value and --name=value alike', () => {
    assert.deepEqual(tokenizeArgv(['--module', 'a.ts', '--https2=addr=:1'], SHAPES), [
      { name: 'module', value: 'a.ts', raw: '--module' },
      { name: 'https2', value: 'addr=:1', raw: '--https2' },
    ]);
  });

  it('splits --name=value on the first = only', () => {
    assert.deepEqual(tokenizeArgv(['--https2=addr==0,spdy=1'], SHAPES), [
      { name: 'https2', value: 'addr==0,spdy=1', raw: '--https2' },
    ]);
  });

  it('keeps repeated options in command-line order', () => {
    const tokens = tokenizeArgv(['--https2', 'addr=:1', '--module', 'm', '--https2', 'addr=:2'], SHAPES);
    assert.deepEqual(tokens.map((t) => [t.name, t.value]), [['https2', 'addr=:1'], ['module', 'm'], ['https2', 'addr=:2']]);
  });

  it('maps a short alias to its long name, spaced or glued', () => {
    assert.deepEqual(tokenizeArgv(['-p', '4', '-p8'], SHAPES), [
      { name: 'processes', value: '4', raw: '-p' },
      { name: 'processes', value: '8', raw: '-p' },
    ]);
  });

  it('reads a flag without consuming the next argument', () => {
    assert.deepEqual(tokenizeArgv(['--master', '--module', 'm'], SHAPES), [
      { name: 'master', value: undefined, raw: '--master' },
      { name: 'module', value: 'm', raw: '--module' },
    ]);
  });

  it('accepts an empty inline value and a value starting with a single dash', () => {
    assert.deepEqual(tokenizeArgv(['--module=', '-p', '-1'], SHAPES).map((t) => t.value), ['', '-1']);
  });

  it('rejects an unknown long option by name, without its value', () => {
    assert.throws(() => tokenizeArgv(['--frobnicate=3'], SHAPES), configError('--frobnicate: unknown option'));
  });

  it('rejects an unknown short option', () => {
    assert.throws(() => tokenizeArgv(['-x'], SHAPES), configError('-x: unknown option'));
  });

  it('rejects an option missing its value at the end or before another option', () => {
    assert.throws(() => tokenizeArgv(['--module'], SHAPES), configError('--module: needs a value'));
    assert.throws(() => tokenizeArgv(['--https2', '--master'], SHAPES), configError('--https2: needs a value'));
  });

  it('rejects a value given to a flag', () => {
    assert.throws(() => tokenizeArgv(['--master=1'], SHAPES), configError('--master: takes no value'));
  });

  it('rejects a bare argument', () => {
    assert.throws(() => tokenizeArgv(['app.ini'], SHAPES), configError('app.ini: unexpected argument (options start with --)'));
  });
});
