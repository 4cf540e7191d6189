// The long fuzz runs. `npm run fuzz -- [--target spdy|uwsgi|backend-http|backend-uwsgi] --seed 7 …`:
//   spdy (the default): `--frames 1000000 [--versions spdy/2,spdy/3] [--concurrency 8]`, frames per SPDY version
//   uwsgi: `--cases N`, packets to the --socket front end
//   backend-http, backend-uwsgi: `--cases N`, responses from a hostile --http-to backend
// Prints progress and a JSON report; exits 1 if it found a crash, hang, stack trace or wrong
// answer. A finding names its seed and frames or cases; `--skip-frames N` / `--skip-cases N`
// replays the same seed from the round holding frame or case N (earlier rounds are generated, not sent).

import { parseArgs } from 'node:util';
import type { SpdyAlpn } from '../../src/spdy/versions.ts';
import { runBackendFuzz } from './backend-runner.ts';
import { runFuzz } from './fuzz-runner.ts';
import { runUwsgiFuzz } from './uwsgi-runner.ts';

const ALL: SpdyAlpn[] = ['spdy/2', 'spdy/3', 'spdy/3.1'];
const TARGETS = ['spdy', 'uwsgi', 'backend-http', 'backend-uwsgi'];
const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'spdy' },
    frames: { type: 'string', default: '1000000' },
    cases: { type: 'string', default: '20000' },
    seed: { type: 'string', default: '1' },
    versions: { type: 'string', default: ALL.join(',') },
    concurrency: { type: 'string', default: '8' },
    'skip-frames': { type: 'string', default: '0' },
    'skip-cases': { type: 'string', default: '0' },
  },
});
const number = (name: string, text: string, min = 1): number => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) {
    process.stderr.write(`fuzz: --${name} must be a ${min === 0 ? 'non-negative' : 'positive'} whole number, not ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return n;
};
if (!TARGETS.includes(values.target)) {
  process.stderr.write(`fuzz: --target takes ${TARGETS.join(', ')}, not ${JSON.stringify(values.target)}\n`);
  process.exit(2);
}
const versions = values.versions.split(',') as SpdyAlpn[];
for (const version of versions) {
  if (!ALL.includes(version)) {
    process.stderr.write(`fuzz: --versions takes ${ALL.join(', ')}, not ${JSON.stringify(version)}\n`);
    process.exit(2);
  }
}
const progress = (line: string): void => void process.stderr.write(`fuzz: ${line}\n`);
const seed = number('seed', values.seed);
const concurrency = number('concurrency', values.concurrency);
const cases = { seed, concurrency, progress, cases: number('cases', values.cases), skipCases: number('skip-cases', values['skip-cases'], 0) };
const report =
  values.target === 'spdy'
    ? await runFuzz({ versions, seed, concurrency, progress, framesPerVersion: number('frames', values.frames), skipFrames: number('skip-frames', values['skip-frames'], 0) })
    : values.target === 'uwsgi'
      ? await runUwsgiFuzz(cases)
      : await runBackendFuzz(values.target === 'backend-http' ? 'http' : 'uwsgi', cases);
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
const { crashes, hangs, stackTraces, wrongAnswers } = report;
process.exit(crashes.length + hangs.length + stackTraces.length + wrongAnswers.length > 0 ? 1 : 0);
