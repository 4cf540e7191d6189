// Whole numbers on the command line: decimal digits only, so `1e3`, `0x10`, ` 5` and `5.0` are
// mistakes reported as such rather than quietly read as something else.

import { ConfigError } from '../errors.ts';

export interface IntegerRange {
  readonly min: number;
  readonly max: number;
  /** What the number counts, for the message: `seconds`, `bytes`, `streams`. */
  readonly unit: string;
}

/** Parses `text`; `culprit` is how the user wrote it (`spdy-window=0`, `"abc"`). */
export function parseInteger(option: string, culprit: string, text: string, range: IntegerRange): number {
  const value = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= range.min && value <= range.max)) {
    throw new ConfigError(option, `${culprit}: must be a whole number of ${range.unit} from ${range.min} to ${range.max}`);
  }
  return value;
}

/** uWSGI's booleans in keyvals: `0` or `1`. */
export function parseBit(option: string, key: string, text: string): boolean {
  if (text === '1') return true;
  if (text === '0') return false;
  throw new ConfigError(option, `${key}=${text}: must be 0 or 1`);
}
