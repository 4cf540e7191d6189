// What uWSGI expands in an ini value before it is an option's value: `$(VAR)` from the
// environment, `%(key)` from a key set earlier in the configuration (an option or a
// placeholder of the file's own), and the magic variables of the file being read
// (uWSGI's Configuration docs): %d its directory (with a trailing /), %n its name without
// extension, %s its name, %e its extension, %p its absolute path, %c the name of its
// directory, %v the working directory, %h the host name, %k the CPU count, %t the time
// (unix seconds), %u/%U the user's id/name, %g/%G the group's id/name, %% a percent sign.

import { availableParallelism, hostname, userInfo } from 'node:os';
import { basename, dirname, extname, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';

export interface ExpansionContext {
  /** The ini file whose line this is. */
  readonly file: string;
  /** Keys set so far, newest value last wins. */
  readonly keys: ReadonlyMap<string, string>;
  /** Unset environment variables are empty, as in uWSGI; each is reported once here. */
  readonly unsetVariable: (name: string) => void;
}

/** Expands `value`; throws an Error naming a %(key) that nothing set before it. */
export function expandIniValue(value: string, context: ExpansionContext): string {
  const withEnv = value.replace(/\$\(([^)]*)\)/g, (_match, name: string) => {
    const found = process.env[name];
    if (found === undefined) context.unsetVariable(name);
    return found ?? '';
  });
  return withEnv.replace(/%\(([^)]*)\)|%(.)/g, (match, key: string | undefined, magic: string | undefined) => {
    if (key !== undefined) {
      const found = context.keys.get(key);
      if (found === undefined) throw new Error(`%(${key}) names no key set before it`);
      return found;
    }
    return magicVariable(magic!, context.file) ?? match;
  });
}

function magicVariable(letter: string, file: string): string | undefined {
  const path = resolve(file);
  const extension = extname(path);
  switch (letter) {
    case 'd': return `${dirname(path)}/`;
    case 'n': return basename(path, extension);
    case 's': return basename(path);
    case 'e': return extension;
    case 'p': return path;
    case 'c': return basename(dirname(path));
    case 'v': return process.cwd();
    case 'h': return hostname();
    case 'k': return String(availableParallelism());
    case 't': return String(Math.floor(Date.now() / 1000));
    case 'u': return String(process.getuid?.() ?? '');
    case 'U': return userInfo().username;
    case 'g': return String(process.getgid?.() ?? '');
    case 'G': return groupName();
    case '%': return '%';
    default: return undefined; // not one of uWSGI's: left as written
  }
}

function groupName(): string {
  try {
    return execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
  } catch {
    return String(process.getgid?.() ?? '');
  }
}
