// A connection a worker began to read is not given to another worker when that one dies, even
// when the worker's IPC channel is clogged and its loop blocked (so no IPC message of it could
// reach the master): the dead worker began its TLS handshake, which no other worker can
// continue, and the client would wait for nothing until the handshake timeout. The worker says
// it took the connection on a channel of its own before reading it (src/master/taken-connections.ts),
// so the master holds no copy, and the client sees the connection close when the worker dies.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { test } from 'node:test';
import { startSpry } from '../helpers/spry-process.ts';

const STALLED_APP = ['--module', './test/fixtures/stalled-accept-app.ts:stalledAcceptApp'];
/** Well inside spry's 30 s handshake timeout, which would end a hang by itself. */
const PROMPT_CLOSE_WITHIN_MS = 12_000;

type Outcome = 'closed' | 'answered' | 'still open';

/** GET `path` over TLS (HTTP/1.1), and what became of the connection within `limitMs`. */
function requestOutcome(port: number, path: string, limitMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    const settle = (outcome: Outcome): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => settle('still open'), limitMs);
    socket.once('secureConnect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`));
    socket.once('data', () => settle('answered'));
    socket.once('close', () => settle('closed'));
    socket.once('error', () => settle('closed'));
  });
}

test('a connection a blocked worker had begun to read closes when the worker is killed, its IPC clogged, instead of going to another worker', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'spry-taken-back-'));
  const marker = join(dir, 'armed');
  const spry = await startSpry(['--https2', 'addr=127.0.0.1:0', ...STALLED_APP, '--master', '-p', '1', '--harakiri', '1'], { env: { ...process.env, SPRY_TEST_STALL_MARKER: marker } });
  t.after(async () => {
    spry.child.kill('SIGCONT'); // the app stops the master; never leave it stopped
    await spry.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const port = spry.listener('https').port;
  const outcome = await requestOutcome(port, '/block', PROMPT_CLOSE_WITHIN_MS);
  assert.ok(existsSync(marker), 'the app staged the race (the master stopped, the worker\'s IPC clogged)');
  assert.match(spry.stderr(), /SPRY_ERR_HARAKIRI: worker \d+ gave no heartbeat/);
  assert.equal(outcome, 'closed', spry.stderr());
  // The respawned worker serves fresh connections.
  assert.equal(await requestOutcome(port, '/', PROMPT_CLOSE_WITHIN_MS), 'answered', spry.stderr());
});
