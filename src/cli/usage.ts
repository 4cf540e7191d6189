// The --help text, generated from the option and key tables so it cannot drift from them.

import { HTTPS2_KEYS } from './https2.ts';
import { OPTIONS } from './options.ts';

export function formatUsage(): string {
  const optionRows = OPTIONS.map((option) => {
    const spellings = [...option.aliases, `--${option.name}`].join(', ');
    const left = option.valueHint === undefined ? spellings : `${spellings} ${option.valueHint}`;
    return [left, option.summary] as const;
  });
  const keyRows = HTTPS2_KEYS.map((key) => [[key.name, ...key.aliases].join(', '), key.summary] as const);

  return [
    'Usage: spry --https2 addr=ADDR[,cert=FILE,key=FILE][,spdy=1] --module PATH[:EXPORT] [options]',
    '',
    'Options (--name value or --name=value; repeatable ones may be given several times):',
    ...table(optionRows),
    '',
    '--https2 keys (key=value, separated by commas):',
    ...table(keyRows),
    '',
    'ADDR is host:port, :port (all interfaces), [ipv6]:port or =N (the Nth --shared-socket).',
    '',
  ].join('\n');
}

function table(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}
