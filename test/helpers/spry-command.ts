// How the tests run spry as a user runs it: bin/spry.ts under the Node running the tests, with
// package.json's `spry-source` condition, so spry's own exports (`spry/cache`, which the test app
// imports) resolve to src/ exactly as in every npm script, never to a built dist/.

import { fileURLToPath } from 'node:url';

export const SPRY_BIN = fileURLToPath(new URL('../../bin/spry.ts', import.meta.url));
/** The project root, the working directory spry runs in (module paths are relative to it). */
export const SPRY_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Node's arguments before spry's: `spawn(process.execPath, [...SPRY_NODE_ARGS, ...args])`. */
export const SPRY_NODE_ARGS: readonly string[] = ['--conditions=spry-source', SPRY_BIN];
