// The long fuzz run: `npm run fuzz -- --frames 1000000 --seed 7 [--versions spdy/2,spdy/3] [--concurrency 8]`.
// Prints progress and a JSON report; exits 1 if it found a crash, hang or stack trace. A finding
// names its seed and frames; `--skip-frames N` replays the same seed from the round holding frame N
// (earlier rounds are generated, not sent).

import { parseArgs } from 'node:util';
import type { SpdyAlpn } from '../../src/spdy/versions.ts';
import { runFuzz } from './fuzz-runner.ts';

const ALL: SpdyAlpn[] = ['spdy/2', 'spdy/3', 'spdy/3.1'];
const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '1' },
    versions: { type: 'string', default: ALL.join(',') },
    concurrency: { type: 'string', default: '8' },
    'skip-frames': { type: 'string', default: '0' },
  },
});
const number = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) {
    process.stderr.write(`fuzz: --${name} must be a positive whole number, not ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return n;
};
const versions = values.versions.split(',') as SpdyAlpn[];
for (const version of versions) {
  if (!ALL.includes(version)) {
    process.stderr.write(`fuzz: --versions takes ${ALL.join(', ')}, not ${JSON.stringify(version)}\n`);
    process.exit(2);
  }
}
const report = await runFuzz({
  versions,
  framesPerVersion: number('frames', values.frames),
  seed: number('seed', values.seed),
  concurrency: number('concurrency', values.concurrency),
  skipFrames: Number(values['skip-frames']),
  progress: (line) => process.stderr.write(`fuzz: ${line}\n`),
});
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
process.exit(report.crashes.length + report.hangs.length + report.stackTraces.length > 0 ? 1 : 0);
