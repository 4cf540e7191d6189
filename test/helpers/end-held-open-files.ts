// Loaded into every test file's process by `npm test` (`--import`). When all of a file's tests
// have run but something the file opened still holds the event loop (a server a failed test never
// closed, a socket, a timer), Node's runner waits for that process forever and the whole suite
// hangs. This ends such a process a while after its last test, naming what held it, and the runner
// reports the file as failed. (`--test-force-exit` would end it too, but on Node 24 it exits
// before the reporter has written the file's last suites: tests silently go missing.)

import { after } from 'node:test';

const GRACE_MS = 60_000;

// Only in the per-file processes the runner starts, not in the runner itself.
if (process.env.NODE_TEST_CONTEXT !== undefined) {
  after(() => {
    setTimeout(() => {
      const held = process.getActiveResourcesInfo().filter((kind) => kind !== 'TTYWrap');
      process.stderr.write(`${process.argv[1] ?? 'this test file'}: still held open ${GRACE_MS / 1000} s after its last test, by ${held.join(', ') || 'nothing visible'}; a test did not close what it opened\n`);
      process.exit(1);
    }, GRACE_MS).unref();
  });
}
