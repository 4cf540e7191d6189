// The uwsgi front end's fuzz target: a spry process serving the test app on --socket, sent the
// generator's packets over real TCP connections (uwsgi-generator.ts), as a hostile router would.
// Every answer must be an HTTP/1.1 status line; a whole, well-formed packet must be answered; a
// fresh connection's well-formed GET must be answered after every round.

import { connect, type Socket } from 'node:net';
import { encodeUwsgiRequest } from '../../src/uwsgi/packet.ts';
import { TEST_APP_ARGS } from '../helpers/spry-process.ts';
import { runCases, type CaseReport, type CaseRunOptions, type CaseTarget } from './rounds.ts';
import { SpryUnderFuzz } from './spry-under-fuzz.ts';
import { UwsgiPacketGenerator, type UwsgiConnectionPlan } from './uwsgi-generator.ts';
import { tally, writeChunks } from './wire.ts';

/** How long a packet that need not be answered may wait before the client gives up on it. */
const GIVE_UP_MS = 300;
/** How long a whole, well-formed packet may go unanswered: a hang. */
const ANSWER_MS = 5000;
const STATUS_LINE = /^HTTP\/1\.1 [1-5]\d\d /;

export async function runUwsgiFuzz(options: CaseRunOptions, statuses: Record<string, number> = {}): Promise<CaseReport & { statuses: Record<string, number> }> {
  const target = await SpryUnderFuzz.start(['--socket', '127.0.0.1:0', ...TEST_APP_ARGS, '--http-timeout', '10']);
  const port = target.spry.listener('uwsgi').port;
  const generator = new UwsgiPacketGenerator(options.seed);
  const cases: CaseTarget<UwsgiConnectionPlan> = {
    name: 'uwsgi',
    plan: () => generator.connection(),
    run: async (plan, _index, place) => {
      const answer = await exchange(port, plan.chunks, plan.pauseEvery, plan.ending, plan.mustAnswer ? ANSWER_MS : GIVE_UP_MS);
      if (answer.bytes.length > 0) {
        const line = answer.bytes.toString('latin1', 0, Math.min(answer.bytes.length, 40));
        if (!STATUS_LINE.test(line)) target.wrongAnswer(place, `the answer begins ${JSON.stringify(line)}`);
        else tally(statuses, line.slice(9, 12));
      }
      if (plan.mustAnswer && answer.bytes.length === 0) target.hang(place, `a whole packet got no answer (${answer.how})`);
      return answer.bytes.length > 0 ? 'answered' : answer.how;
    },
    probe: async (round) => {
      const packet = encodeUwsgiRequest({ REQUEST_METHOD: 'GET', REQUEST_URI: '/bytes?n=10', PATH_INFO: '/bytes', QUERY_STRING: 'n=10', SERVER_PROTOCOL: 'HTTP/1.1', HTTP_HOST: 'localhost', SERVER_NAME: 'localhost', SERVER_PORT: '80', REMOTE_ADDR: '127.0.0.1', REMOTE_PORT: String(round) });
      const answer = await exchange(port, [packet], 1, 'end', ANSWER_MS);
      const text = answer.bytes.toString('latin1');
      return text.startsWith('HTTP/1.1 200 ') && answer.how === 'closed' ? undefined : `got ${JSON.stringify(text.slice(0, 40))} (${answer.how})`;
    },
  };
  try {
    return { ...(await runCases(target, cases, options)), statuses };
  } finally {
    await target.stop();
  }
}

/** Sends the chunks, ends as told, and collects what comes back until the server closes or `waitMs` pass. */
function exchange(port: number, chunks: readonly Buffer[], pauseEvery: number, ending: UwsgiConnectionPlan['ending'], waitMs: number): Promise<{ bytes: Buffer; how: 'closed' | 'gave-up' | 'cut' }> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const settle = (how: 'closed' | 'gave-up' | 'cut'): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes: Buffer.concat(received), how });
    };
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('close', () => settle('closed'));
    socket.once('connect', async () => {
      if (!(await writeChunks(socket, chunks, pauseEvery))) return;
      if (ending === 'cut') return settle('cut');
      if (ending === 'end') socket.end();
      timer = setTimeout(() => settle('gave-up'), waitMs);
    });
  });
}
