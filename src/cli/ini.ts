// uWSGI's ini files as uWSGI reads them: `--ini FILE` reads section [uwsgi], `--ini FILE:NAME`
// section [NAME]; a [spry] section, when the file has one, is read after [uwsgi] and its options
// replace [uwsgi]'s. One `key = value` a line, keys repeatable, `;` and `#` start comments; a
// flag is `key = true` (1, yes, on; a bare `key` or `key =` too). Values expand $(VAR), %(key)
// and the magic variables (ini-expand.ts); `ini = other.ini[:section]` includes another file
// there. A uWSGI key spry has no option for is a warning, or fatal if it changes what is served
// (uwsgi-keys.ts); any other key is a placeholder for %(key). The command line replaces the
// file's values for the same option.

import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.ts';
import type { ArgvOptionShape, ArgvToken } from './argv.ts';
import { expandIniValue } from './ini-expand.ts';
import { unimplementedKey } from './uwsgi-keys.ts';

const DEFAULT_SECTION = 'uwsgi';
const SPRY_SECTION = 'spry';
const TRUE = new Set(['', 'true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);
/** Includes nest at most this deep (a file including itself would otherwise never end). */
const MAX_INCLUDE_DEPTH = 16;

export interface IniResult {
  readonly tokens: ArgvToken[];
  /** One line each: ignored uWSGI keys, unset environment variables. */
  readonly warnings: string[];
}

/** Reads `spec` (`FILE` or `FILE:section`), given to `option` (`--ini`). */
export function readIniTokens(option: string, spec: string, options: readonly ArgvOptionShape[]): IniResult {
  const reader = new IniReader(option, options);
  const { path, section } = splitSpec(spec);
  if (section !== undefined) {
    if (!reader.read(path, section, 0)) throw new ConfigError(option, `${path}: no [${section}] section`);
    return { tokens: reader.tokens, warnings: reader.warnings };
  }
  const hasUwsgi = reader.read(path, DEFAULT_SECTION, 0);
  const uwsgiTokens = reader.take();
  const hasSpry = reader.read(path, SPRY_SECTION, 0);
  if (!hasUwsgi && !hasSpry) throw new ConfigError(option, `${path}: no [${DEFAULT_SECTION}] or [${SPRY_SECTION}] section`);
  return { tokens: mergeIni(uwsgiTokens, reader.take()), warnings: reader.warnings };
}

/** The earlier tokens, minus any option the later ones also give; then the later ones. */
export function mergeIni(earlier: readonly ArgvToken[], later: readonly ArgvToken[]): ArgvToken[] {
  const given = new Set(later.map((token) => token.name));
  return [...earlier.filter((token) => !given.has(token.name)), ...later];
}

/** `FILE:section`; a Windows-style drive colon is not a section. */
function splitSpec(spec: string): { path: string; section: string | undefined } {
  const colon = spec.lastIndexOf(':');
  if (colon <= 0 || spec.slice(colon + 1).includes('/')) return { path: spec, section: undefined };
  return { path: spec.slice(0, colon), section: spec.slice(colon + 1) };
}

class IniReader {
  tokens: ArgvToken[] = [];
  readonly warnings: string[] = [];
  /** Every key set so far, options and placeholders alike, for %(key). */
  private readonly keys = new Map<string, string>();
  private readonly option: string;
  private readonly options: readonly ArgvOptionShape[];

  constructor(option: string, options: readonly ArgvOptionShape[]) {
    this.option = option;
    this.options = options;
  }

  take(): ArgvToken[] {
    const tokens = this.tokens;
    this.tokens = [];
    return tokens;
  }

  /** Reads [section] of `path` into the tokens; false if the file has no such section. */
  read(path: string, section: string, depth: number): boolean {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError(this.option, `${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    let current: string | undefined;
    let found = false;
    text.split(/\r?\n/).forEach((rawLine, index) => {
      const line = rawLine.trim();
      const where = `${this.option} ${path}:${index + 1}`;
      if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
      if (line.startsWith('[')) {
        if (!line.endsWith(']')) throw new ConfigError(where, `malformed section header ${JSON.stringify(line)}`);
        current = line.slice(1, -1).trim();
        found ||= current === section;
        return;
      }
      if (current !== section) return;
      const equals = line.indexOf('=');
      const key = (equals < 0 ? line : line.slice(0, equals)).trim();
      if (key === '') throw new ConfigError(where, `expected key = value, got ${JSON.stringify(line)}`);
      let value: string;
      try {
        value = expandIniValue(equals < 0 ? '' : line.slice(equals + 1).trim(), {
          file: path,
          keys: this.keys,
          unsetVariable: (name) => this.warnings.push(`${where}: $(${name}) is not set; it reads as empty`),
        });
      } catch (error) {
        throw new ConfigError(where, (error as Error).message);
      }
      this.keys.set(key, value);
      this.apply(where, key, value, depth);
    });
    return found;
  }

  private apply(where: string, key: string, value: string, depth: number): void {
    if (key === 'ini') {
      if (depth >= MAX_INCLUDE_DEPTH) throw new ConfigError(where, `ini = ${value}: includes nest deeper than ${MAX_INCLUDE_DEPTH} (a loop?)`);
      const { path, section } = splitSpec(value);
      if (!this.read(path, section ?? DEFAULT_SECTION, depth + 1)) throw new ConfigError(where, `ini = ${value}: ${path} has no [${section ?? DEFAULT_SECTION}] section`);
      return;
    }
    const spec = this.options.find((candidate) => candidate.name === key || candidate.aliases.includes(`--${key}`))
      ?? this.options.find((candidate) => candidate.name === key.replaceAll('_', '-'));
    if (spec === undefined) {
      const kind = unimplementedKey(key);
      if (kind === 'changes-what-is-served') throw new ConfigError(where, `${key} is a uWSGI option spry does not implement, and serving without it would serve something else`);
      if (kind === 'harmless') this.warnings.push(`${where}: ${key} is a uWSGI option spry does not implement; ignored`);
      return; // a placeholder of the file's own, for %(key)
    }
    // A key of a single-valued option set again replaces its earlier value, as in uWSGI.
    if (spec.repeats !== true) this.tokens = this.tokens.filter((token) => token.name !== spec.name);
    if (spec.takesValue) {
      if (value === '' && spec.optionalValue !== true) throw new ConfigError(where, `${key} needs a value`);
      this.tokens.push({ name: spec.name, value: value === '' ? undefined : value, raw: `${where} ${key}` });
    } else if (TRUE.has(value.toLowerCase())) {
      this.tokens.push({ name: spec.name, value: undefined, raw: `${where} ${key}` });
    } else if (!FALSE.has(value.toLowerCase())) {
      throw new ConfigError(where, `${key} is a flag: true or false, not ${JSON.stringify(value)}`);
    }
  }
}
