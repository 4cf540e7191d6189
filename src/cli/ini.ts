// uWSGI's ini files: `--ini FILE` reads the [spry] section, one `key = value` option per line,
// keys repeatable, `;` and `#` starting comments. A flag is `key = true` (or 1, yes, on).
// Options given on the command line replace the file's values for the same option.

import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.ts';
import type { ArgvOptionShape, ArgvToken } from './argv.ts';

const SECTION = 'spry';
const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

export function readIniTokens(option: string, path: string, options: readonly ArgvOptionShape[]): ArgvToken[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(option, `${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const tokens: ArgvToken[] = [];
  let section: string | undefined;
  let sawSection = false;
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = rawLine.trim();
    const where = `${option} ${path}:${index + 1}`;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) throw new ConfigError(where, `malformed section header ${JSON.stringify(line)}`);
      section = line.slice(1, -1).trim();
      sawSection ||= section === SECTION;
      return;
    }
    if (section !== SECTION) return;
    const equals = line.indexOf('=');
    if (equals <= 0) throw new ConfigError(where, `expected key = value, got ${JSON.stringify(line)}`);
    const key = line.slice(0, equals).trim();
    const value = line.slice(equals + 1).trim();
    const spec = options.find((candidate) => candidate.name === key || candidate.aliases.includes(`--${key}`));
    if (spec === undefined) throw new ConfigError(where, `unknown option "${key}"`);
    if (spec.takesValue) {
      tokens.push({ name: spec.name, value, raw: `${where} ${key}` });
    } else if (TRUE.has(value.toLowerCase())) {
      tokens.push({ name: spec.name, value: undefined, raw: `${where} ${key}` });
    } else if (!FALSE.has(value.toLowerCase())) {
      throw new ConfigError(where, `${key} is a flag: true or false, not ${JSON.stringify(value)}`);
    }
  });
  if (!sawSection) throw new ConfigError(option, `${path}: no [${SECTION}] section`);
  return tokens;
}

/** The file's options first, minus any the command line also gives; then the command line's. */
export function mergeIni(fileTokens: readonly ArgvToken[], commandLine: readonly ArgvToken[]): ArgvToken[] {
  const given = new Set(commandLine.map((token) => token.name));
  return [...fileTokens.filter((token) => !given.has(token.name)), ...commandLine];
}
