// A temporary site for the static-file tests: a few files of known bytes, an index, a file with
// an extension the mount skips, symlinks that stay inside the root, and escape hatches (symlinks
// out of the root, a secret beside it) that must never be served. Removed by the caller.

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xorshiftBytes } from '../helpers/xorshift-bytes.ts';

export interface StaticSite {
  /** The directory holding `root` and the secret beside it. */
  readonly base: string;
  /** What --static-map maps. */
  readonly root: string;
  readonly files: { readonly css: Buffer; readonly bin: Buffer; readonly index: Buffer };
  /** Small files of distinct bytes and sizes, at `/many/N.bin` under the root. */
  readonly many: readonly Buffer[];
  /** Bytes that live outside the root and must never come back. */
  readonly secret: Buffer;
  remove(): void;
}

export function makeStaticSite(): StaticSite {
  const base = mkdtempSync(join(tmpdir(), 'spry-static-'));
  const root = join(base, 'site');
  mkdirSync(join(root, 'docs'), { recursive: true });
  const css = Buffer.from('body { color: #123456 }\n');
  const bin = xorshiftBytes(300_000, 7);
  const index = Buffer.from('<!doctype html><title>docs</title>\n');
  const secret = Buffer.from('TOP SECRET: outside the root\n');
  writeFileSync(join(root, 'style.css'), css);
  writeFileSync(join(root, 'blob.bin'), bin);
  writeFileSync(join(root, 'docs', 'index.html'), index);
  writeFileSync(join(root, 'page.php'), '<?php echo 1;');
  writeFileSync(join(base, 'secret.txt'), secret);
  mkdirSync(join(root, 'many'));
  const many = Array.from({ length: 24 }, (_, i) => xorshiftBytes(1000 + i * 996, 100 + i));
  many.forEach((bytes, i) => writeFileSync(join(root, 'many', `${i}.bin`), bytes));
  symlinkSync(join(base, 'secret.txt'), join(root, 'escape.txt'));
  symlinkSync(base, join(root, 'up'));
  // Symlinks that stay inside (served as their targets), and one a level down that leads out.
  symlinkSync(join(root, 'style.css'), join(root, 'alias.css'));
  symlinkSync(join(root, 'docs'), join(root, 'docs-link'));
  symlinkSync(base, join(root, 'docs', 'up'));
  return { base, root, files: { css, bin, index }, many, secret, remove: () => rmSync(base, { recursive: true, force: true }) };
}
