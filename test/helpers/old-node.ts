// Finds a Node older than 22 on PATH (the machine's own node, behind the npm package's Node 24),
// for peers that cannot run on newer Node (node-spdy).

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export function findOldNode(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'node');
    if (!existsSync(candidate)) continue;
    try {
      const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim();
      const major = Number.parseInt(version.slice(1), 10);
      if (major >= 18 && major < 22) return candidate;
    } catch {
      // not runnable: try the next one
    }
  }
  return undefined;
}
