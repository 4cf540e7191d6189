// `--module PATH:EXPORT`: which file holds the app and which export it is. Only split here;
// src/apps imports the module and decides what to do when EXPORT is absent.

import { ConfigError } from '../errors.ts';

export interface ModuleSpec {
  readonly path: string;
  /** Undefined when only PATH was given (the loader then tries `default`, then `app`). */
  readonly exportName?: string;
  readonly source: string;
}

const EXPORT_NAME = /^[A-Za-z_$][\w$]*$/;

export function parseModuleSpec(option: string, text: string): ModuleSpec {
  if (text === '') throw new ConfigError(option, 'empty (expected PATH or PATH:EXPORT)');
  const colon = text.lastIndexOf(':');
  const tail = colon === -1 ? '' : text.slice(colon + 1);
  // `file:///srv/app.ts` and `C:/app.ts` have colons that are part of the path.
  if (colon === -1 || tail.includes('/') || tail.includes('\\')) return { path: text, source: text };

  const path = text.slice(0, colon);
  if (path === '') throw new ConfigError(option, `"${text}": no path before :${tail}`);
  if (tail === '') throw new ConfigError(option, `"${text}": no export name after : (write just PATH for the default export)`);
  if (!EXPORT_NAME.test(tail)) {
    throw new ConfigError(option, `"${text}": "${tail}" is not an export name (expected PATH:EXPORT, e.g. ./app.ts:handler)`);
  }
  return { path, exportName: tail, source: text };
}
