// A --module that fails to load: the cause on one line, then where (a syntax error's file and
// line, a throw's first frames in the app's own files), exit 2; nothing of spry's loader.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runSpry } from '../cli/run-spry.ts';

describe('a --module that fails to load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spry-load-failure-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function stderrLines(name: string, source: string): Promise<string[]> {
    const path = join(dir, name);
    writeFileSync(path, source);
    const run = await runSpry(['--http', '127.0.0.1:0', '--module', path]);
    assert.equal(run.status, 2, run.stderr);
    return run.stderr.split('\n').filter(Boolean);
  }

  test('a syntax error names the file and line, and shows the line', async () => {
    const path = join(dir, 'syntax.ts');
    assert.deepEqual(await stderrLines('syntax.ts', 'export default 1;\nconst broken = ;\n'), [
      `spry: --module ${path}: cannot load ${path} (Expression expected)`,
      `    at ${path}:2`,
      '      const broken = ;',
    ]);
  });

  test('a top-level throw shows the app\'s frames, and none of spry\'s', async () => {
    const path = join(dir, 'throws.ts');
    assert.deepEqual(await stderrLines('throws.ts', 'function check() {\n  throw new Error("no DATABASE_URL");\n}\ncheck();\nexport default () => {};\n'), [
      `spry: --module ${path}: cannot load ${path} (no DATABASE_URL)`,
      `    at check (${path}:2:9)`,
      `    at ${path}:4:1`,
    ]);
  });

  test('a missing import names both files on the one line', async () => {
    const path = join(dir, 'imports.ts');
    assert.deepEqual(await stderrLines('imports.ts', 'import "./missing.ts";\nexport default () => {};\n'), [
      `spry: --module ${path}: cannot load ${path} (Cannot find module '${join(dir, 'missing.ts')}' imported from ${path})`,
    ]);
  });
});
