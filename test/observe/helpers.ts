// What the observe tests share: a temporary directory, and reading a log file once it holds
// the lines a test made (a bounded wait: the writer batches).

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function tempDir(): Promise<{ path: string; file(name: string): string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'spry-observe-'));
  return { path, file: (name) => join(path, name), remove: () => rm(path, { recursive: true, force: true }) };
}

/** The file's lines once there are at least `count` (up to 10 s), whatever is there after that. */
export async function linesOf(path: string, count: number): Promise<string[]> {
  const until = Date.now() + 10_000;
  for (;;) {
    const text = await readFile(path, 'utf8').catch(() => '');
    const lines = text.split('\n').filter((line) => line !== '');
    if (lines.length >= count || Date.now() > until) return lines;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
