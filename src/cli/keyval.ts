// uWSGI's keyval dialect: `key=value,key2=value2`. Each pair splits on its first `=`, so
// `addr==0` is the key `addr` with the value `=0` (shared socket 0). There is no escaping:
// a value cannot contain a comma, as in uWSGI.

import { ConfigError } from '../errors.ts';

export interface KeyvalPair {
  readonly key: string;
  readonly value: string;
}

/** Splits `text`, the value of `option`, into pairs in the order written. */
export function parseKeyval(option: string, text: string): KeyvalPair[] {
  if (text === '') throw new ConfigError(option, 'empty value (expected key=value[,key=value…])');
  return text.split(',').map((pair) => {
    if (pair === '') throw new ConfigError(option, `empty pair in "${text}" (stray comma?)`);
    const eq = pair.indexOf('=');
    if (eq === -1) throw new ConfigError(option, `"${pair}" is not key=value`);
    if (eq === 0) throw new ConfigError(option, `"${pair}" has no key before =`);
    return { key: pair.slice(0, eq), value: pair.slice(eq + 1) };
  });
}
