// With --uid, the workers run as that user: a directory, Node or app it may not open is one line
// naming the user, the path and the errno (exit 2), not an unhandled 'error' event or a stack.

import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { killAllRuns, spawnSpry, taggedPids, waitUntil } from './master-process.ts';
import { treeForDroppedUser, type SpryTree } from './readable-tree.ts';

const NEEDS_ROOT = process.getuid?.() === 0 ? false : '--uid needs root';

after(killAllRuns);

async function assertOneLine(args: readonly string[], tree: SpryTree, expected: string): Promise<void> {
  const run = spawnSpry(args, tree);
  const exit = await run.waitForExit(20_000);
  assert.deepEqual(run.stderr().split('\n').filter(Boolean), [`spry: ${expected}`]);
  assert.deepEqual(exit, { code: 2, signal: null });
  await waitUntil(() => taggedPids(run.tag).length === 0, 'no process of the run left', 2_000);
}

describe('--uid nobody, with something the workers need closed to nobody', { skip: NEEDS_ROOT }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'spry-unreadable-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a checkout in a directory only root may enter', async () => {
    const tree = treeForDroppedUser();
    const checkout = join(dir, 'checkout'); // dir is 0700, as mkdtemp makes it
    cpSync(tree.root, checkout, { recursive: true });
    const closed = { ...tree, root: checkout, nodeArgs: ['--conditions=spry-source', join(checkout, 'bin/spry.ts')] };
    await assertOneLine(['--http', '127.0.0.1:0', '--module', './examples/testapp.ts:testApp', '--uid', 'nobody'], closed, `the worker cannot run as nobody: ${join(checkout, 'bin/spry.ts')}, EACCES`);
  });

  test('an app file only root may read', async () => {
    const app = join(dir, 'secret-app.ts');
    writeFileSync(app, 'export default (_req: unknown, res: { end(): void }) => res.end();\n');
    chmodSync(app, 0o600);
    chmodSync(dir, 0o755);
    await assertOneLine(['--http', '127.0.0.1:0', '--module', app, '--uid', 'nobody'], treeForDroppedUser(), `the worker cannot run as nobody: ${app}, EACCES`);
  });
});
