// Preloaded (`--expose-gc --require bench/tools/gc-on-signal.cjs`) into every server of the
// memory scenario, spry and node-spdy alike: SIGUSR2 runs a full garbage collection, so resident
// memory is read after garbage is gone rather than whenever V8 last collected, then prints
// process.memoryUsage() on stderr as `gc-on-signal {json}` so the runner can split RSS into the
// V8 heap, memory outside it (Buffers, ArrayBuffers) and the rest (OpenSSL, zlib, code).
'use strict';

process.on('SIGUSR2', () => {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
  process.stderr.write(`gc-on-signal ${JSON.stringify(process.memoryUsage())}\n`);
});
