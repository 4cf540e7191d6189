// spry for the --uid tests, from a copy the dropped user can read. A checkout may sit where only
// its owner can enter (a 0700 home or work directory); the user spry drops to could then neither
// load bin/, src/ and the app nor exec the Node binary under node_modules, and those tests would
// fail for that alone. So they run from a fresh 0755 temporary directory holding what spry loads
// at run time (package.json, bin/, src/, examples/, its dependencies) and this Node, made once
// per test process.

import { chmodSync, constants as fsConstants, copyFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SPRY_ROOT } from '../helpers/spry-command.ts';

/** A copy of spry, runnable by any user. */
export interface SpryTree {
  /** The copy's root: spry's working directory (module paths are relative to it). */
  readonly root: string;
  /** A Node binary every user may execute. */
  readonly node: string;
  /** Node's arguments before spry's, as SPRY_NODE_ARGS for the checkout. */
  readonly nodeArgs: readonly string[];
}

const RUNTIME_PATHS = ['package.json', 'bin', 'src', 'examples'];

let tree: SpryTree | undefined;

export function treeForDroppedUser(): SpryTree {
  if (tree !== undefined) return tree;
  const root = mkdtempSync(join(tmpdir(), 'spry-readable-'));
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  const manifest = JSON.parse(readFileSync(join(SPRY_ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const paths = [...RUNTIME_PATHS, ...Object.keys(manifest.dependencies ?? {}).map((name) => join('node_modules', name))];
  for (const path of paths) cpSync(join(SPRY_ROOT, path), join(root, path), { recursive: true, dereference: true });
  const node = join(root, 'node');
  copyFileSync(process.execPath, node, fsConstants.COPYFILE_FICLONE);
  openUp(root);
  chmodSync(node, 0o755);
  tree = { root, node, nodeArgs: ['--conditions=spry-source', join(root, 'bin/spry.ts')] };
  return tree;
}

/** Directories 0755, files 0644: readable by everyone, whatever the checkout's modes were. */
function openUp(path: string): void {
  if (!statSync(path).isDirectory()) {
    chmodSync(path, 0o644);
    return;
  }
  chmodSync(path, 0o755);
  for (const entry of readdirSync(path)) openUp(join(path, entry));
}
