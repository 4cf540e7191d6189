import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseModuleSpec } from '../../src/cli/module-spec.ts';

describe('parseModuleSpec', () => {
  it('splits PATH:EXPORT on the last colon', () => {
    assert.deepEqual(parseModuleSpec('--module', './examples/testapp.ts:testApp'), {
      path: './examples/testapp.ts', exportName: 'testApp', source: './examples/testapp.ts:testApp',
    });
  });

  it('leaves the export to the loader when only PATH is given', () => {
    assert.deepEqual(parseModuleSpec('--module', './app.ts'), { path: './app.ts', source: './app.ts' });
  });

  it('keeps a URL colon in the path', () => {
    assert.deepEqual(parseModuleSpec('--module', 'file:///srv/app.ts'), { path: 'file:///srv/app.ts', source: 'file:///srv/app.ts' });
    assert.equal(parseModuleSpec('--module', 'file:///srv/app.ts:handler').exportName, 'handler');
  });

  it('rejects an empty path, an empty export and a non-identifier export', () => {
    assert.throws(() => parseModuleSpec('--module', ':app'), /^ConfigError: --module: ":app": no path before :app$/);
    assert.throws(() => parseModuleSpec('--module', 'a.ts:'), /--module: "a.ts:": no export name after :/);
    assert.throws(() => parseModuleSpec('--module', 'a.ts:my-app'), /--module: "a.ts:my-app": "my-app" is not an export name/);
    assert.throws(() => parseModuleSpec('--module', ''), /--module: empty/);
  });
});
