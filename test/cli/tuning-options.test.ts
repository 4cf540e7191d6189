// The tuning knobs on the command line: each is a global option (`--spdy-window N`) and an
// --https2 key of the same name. A value out of its range is one line naming the option or key,
// the value and the range, exit status 2; the ends of each range are accepted; the key overrides
// the option on its own listener only; --help lists them all.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULTS, type StreamTuning } from '../../src/config/config.ts';
import { parseCommandLine } from '../../src/cli/options.ts';
import { ConfigError } from '../../src/errors.ts';
import { assertConfigError, runSpry } from './run-spry.ts';

const MODULE = ['--module', './examples/testapp.ts:testApp'];

interface Knob {
  readonly name: string;
  readonly field: keyof StreamTuning;
  readonly min: number;
  readonly max: number;
  readonly unit: string;
}

// Written out here rather than read from src/cli/tuning.ts, so a wrong range there shows up.
const KNOBS: readonly Knob[] = [
  { name: 'spdy-max-streams', field: 'maxConcurrentStreams', min: 1, max: 100_000, unit: 'streams' },
  { name: 'spdy-window', field: 'initialWindowBytes', min: 1024, max: 2 ** 31 - 1, unit: 'bytes' },
  { name: 'spdy-session-window', field: 'sessionWindowBytes', min: 65_536, max: 2 ** 31 - 1, unit: 'bytes' },
  { name: 'spdy-max-frame', field: 'maxControlFrameBytes', min: 8192, max: 2 ** 24 - 1, unit: 'bytes' },
  { name: 'spdy-max-headers', field: 'maxHeaderBlockBytes', min: 8192, max: 16 << 20, unit: 'bytes' },
  { name: 'spdy-max-header-count', field: 'maxHeaderCount', min: 16, max: 65_535, unit: 'headers' },
  { name: 'spdy-max-data-frame', field: 'maxDataFrameBytes', min: 1024, max: 2 ** 24 - 1, unit: 'bytes' },
  { name: 'write-buffer', field: 'writeBufferBytes', min: 1024, max: 64 << 20, unit: 'bytes' },
  { name: 'read-buffer', field: 'readBufferBytes', min: 1024, max: 64 << 20, unit: 'bytes' },
];

function range(knob: Knob): string {
  return `must be a whole number of ${knob.unit} from ${knob.min} to ${knob.max}`;
}

async function rejectsWith(argv: readonly string[], message: string): Promise<void> {
  await assert.rejects(parseCommandLine(argv), (error) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.message, message);
    return true;
  });
}

describe('tuning options and keys: ranges (parsed in process)', () => {
  for (const knob of KNOBS) {
    describe(knob.name, () => {
      it(`--${knob.name} below ${knob.min} or above ${knob.max} names the option, the value and the range`, async () => {
        for (const value of [knob.min - 1, knob.max + 1]) {
          await rejectsWith([`--${knob.name}`, String(value), '--https2', 'addr=:1', ...MODULE], `--${knob.name}: "${value}": ${range(knob)}`);
        }
      });

      it(`${knob.name}= below ${knob.min} or above ${knob.max} names --https2, the pair and the range`, async () => {
        for (const value of [knob.min - 1, knob.max + 1]) {
          await rejectsWith(['--https2', `addr=:1,${knob.name}=${value}`, ...MODULE], `--https2: ${knob.name}=${value}: ${range(knob)}`);
        }
      });

      it('accepts both ends of the range; the key overrides the option on its listener only', async () => {
        const config = await parseCommandLine([
          `--${knob.name}`, String(knob.min),
          '--https2', 'addr=:1',
          '--https2', `addr=:2,${knob.name}=${knob.max}`,
          '--http', ':3',
          ...MODULE,
        ]);
        assert.equal(config.tuning[knob.field], knob.min, 'the global tuning (--http and --socket use it)');
        assert.equal(config.https2[0].tuning[knob.field], knob.min);
        assert.equal(config.https2[1].tuning[knob.field], knob.max);
        // Nothing else moved from its default.
        for (const other of KNOBS.filter((k) => k !== knob)) {
          assert.equal(config.https2[1].tuning[other.field], DEFAULTS.tuning[other.field], other.name);
        }
      });
    });
  }

  it('takes only plain decimal digits', async () => {
    for (const text of ['1e6', '0x100000', '-1', '+65536', '65536.0', ' 65536', '64k', '']) {
      await rejectsWith(['--write-buffer', text, '--https2', 'addr=:1', ...MODULE], `--write-buffer: "${text}": ${range(KNOBS[7])}`);
    }
  });

  it('refuses a global tuning option given twice', async () => {
    await rejectsWith(['--read-buffer', '4096', '--read-buffer', '8192', '--https2', 'addr=:1', ...MODULE], '--read-buffer: given more than once');
  });

  it('refuses a tuning key given twice in one --https2', async () => {
    await rejectsWith(['--https2', 'addr=:1,write-buffer=4096,write-buffer=8192', ...MODULE], '--https2: write-buffer= and write-buffer= both given');
  });
});

describe('tuning options and keys: what spry itself says', { concurrency: 4 }, () => {
  for (const knob of KNOBS) {
    it(`--${knob.name} ${knob.max + 1}: exit status 2 and one line`, async () => {
      await assertConfigError([`--${knob.name}`, String(knob.max + 1), '--https2', 'addr=127.0.0.1:0', ...MODULE], `--${knob.name}: "${knob.max + 1}": ${range(knob)}`);
    });

    it(`--https2 …,${knob.name}=${knob.min - 1}: exit status 2 and one line`, async () => {
      await assertConfigError(['--https2', `addr=127.0.0.1:0,spdy=1,${knob.name}=${knob.min - 1}`, ...MODULE], `--https2: ${knob.name}=${knob.min - 1}: ${range(knob)}`);
    });
  }

  it('--help lists every tuning option with its default and every tuning key of --https2', async () => {
    const run = await runSpry(['--help']);
    assert.equal(run.status, 0);
    const [options, keys] = run.stdout.split('--https2 keys');
    assert.ok(keys !== undefined, 'a table of --https2 keys');
    for (const knob of KNOBS) {
      const option = new RegExp(`\\n {2}--${knob.name} N +\\S.*\\(default ${DEFAULTS.tuning[knob.field]}\\).*overrides it per listener\\n`);
      assert.match(options, option, `--${knob.name} in the options`);
      assert.match(keys, new RegExp(`\\n {2}${knob.name} +\\S.*\\(default ${DEFAULTS.tuning[knob.field]}\\)\\n`), `${knob.name} in the keys`);
    }
    assert.match(options, /--write-buffer N +response bytes buffered per stream/);
    assert.match(options, /--read-buffer N +upload bytes held for an app/);
  });
});
