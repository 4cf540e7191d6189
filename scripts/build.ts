// `npm run build` (and `prepack`): dist/ as `npm pack` ships it. tsc compiles src/ and bin/ with
// their declarations (tsconfig.build.json); the files the code reads beside itself at run time
// (the SPDY zlib dictionaries) are copied next to the compiled modules that read them.

import { spawnSync } from 'node:child_process';
import { cpSync, globSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DIST = join(ROOT, 'dist');
/** Read at run time through `new URL(file, import.meta.url)`, so they sit beside their module. */
const RUNTIME_ASSETS = ['src/spdy/*.dict'];

rmSync(DIST, { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
if (compiled.status !== 0) {
  process.stderr.write('build: tsc failed\n');
  process.exit(compiled.status ?? 1);
}

for (const pattern of RUNTIME_ASSETS) {
  for (const file of globSync(pattern, { cwd: ROOT })) {
    const target = join(DIST, file);
    cpSync(join(ROOT, file), target);
    if (!dirname(target).startsWith(DIST)) throw new Error(`build: ${file} lands outside dist/`);
  }
}
