// Splits argv the way uWSGI reads it: `--name value`, `--name=value`, `-p 4` or `-p4`, flags
// without a value, options repeated in order. Only the shape is checked here; what a value means
// is the option table's business (options.ts).

import { ConfigError } from '../errors.ts';

/** What the tokeniser needs to know about an option. */
export interface ArgvOptionShape {
  /** Long name without dashes (`https2`). */
  readonly name: string;
  /** Other spellings, with their dashes (`-p`, `--client-ca`). */
  readonly aliases: readonly string[];
  readonly takesValue: boolean;
  /** Given more than once, every value counts (otherwise an ini file's later value replaces the earlier). */
  readonly repeats?: boolean;
  /** The value is optional and only ever inline (`--chmod-socket` or `--chmod-socket=660`). */
  readonly optionalValue?: boolean;
}

/** One option occurrence, in command-line order. */
export interface ArgvToken {
  /** The option's canonical long name, without dashes. */
  readonly name: string;
  /** The value; undefined for a flag. */
  readonly value: string | undefined;
  /** The option as the user spelled it (`-p`, `--https2`), for messages. */
  readonly raw: string;
}

export function tokenizeArgv(argv: readonly string[], options: readonly ArgvOptionShape[]): ArgvToken[] {
  const bySpelling = new Map<string, ArgvOptionShape>();
  for (const option of options) {
    bySpelling.set(`--${option.name}`, option);
    for (const alias of option.aliases) bySpelling.set(alias, option);
  }

  const tokens: ArgvToken[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('-') || arg === '-' || arg === '--') {
      throw new ConfigError(arg === '' ? '""' : arg, 'unexpected argument (options start with --)');
    }

    let spelling = arg;
    let inlineValue: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq !== -1) {
        spelling = arg.slice(0, eq);
        inlineValue = arg.slice(eq + 1);
      }
    } else if (arg.length > 2 && !bySpelling.has(arg)) {
      // A short option glued to its value, getopt style: `-p4`.
      spelling = arg.slice(0, 2);
      inlineValue = arg.slice(2);
    }

    const option = bySpelling.get(spelling);
    if (option === undefined) throw new ConfigError(arg.startsWith('--') ? spelling : arg, 'unknown option');

    if (!option.takesValue) {
      if (inlineValue !== undefined) throw new ConfigError(spelling, 'takes no value');
      tokens.push({ name: option.name, value: undefined, raw: spelling });
      continue;
    }

    let value = inlineValue;
    if (value === undefined && option.optionalValue === true) {
      tokens.push({ name: option.name, value: undefined, raw: spelling });
      continue;
    }
    if (value === undefined) {
      const next = argv[i + 1];
      // A following `--option` means the value was forgotten, not that it is the value.
      if (next === undefined || next.startsWith('--')) throw new ConfigError(spelling, 'needs a value');
      value = next;
      i++;
    }
    tokens.push({ name: option.name, value, raw: spelling });
  }
  return tokens;
}
