// uWSGI's options for a Python WSGI app (--wsgi-file, --wsgi/-w, --callable, --pythonpath,
// --virtualenv/-H, --plugin). --module feeds the same draft when src/wsgi/detect.ts calls its
// value Python. src/wsgi runs what they describe under managed uWSGI workers.

import { resolve } from 'node:path';
import type { PythonAppConfig } from '../config/config.ts';
import { ConfigError } from '../errors.ts';
import type { OptionSpec } from './options.ts';

export interface PythonDraft {
  module?: string;
  wsgiFile?: string;
  callable?: string;
  virtualenv?: string;
  readonly pythonPath: string[];
  readonly plugins: string[];
}

type PythonOption = OptionSpec<{ readonly python: PythonDraft }>;

const PYTHON_MODULE = /^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*(?::[A-Za-z_]\w*)?$/;

export const PYTHON_OPTIONS: readonly PythonOption[] = [
  {
    name: 'wsgi', aliases: ['-w'], takesValue: true, repeats: false, valueHint: 'MODULE[:CALLABLE]',
    summary: 'a Python WSGI app by module name, run under managed uWSGI workers (as --module py:MODULE)',
    apply: (value, raw, draft) => setPythonModule(raw, value ?? '', draft.python),
  },
  {
    name: 'wsgi-file', aliases: ['--file'], takesValue: true, repeats: false, valueHint: 'FILE',
    summary: 'a Python file holding the WSGI callable (`application`, or --callable), run under managed uWSGI workers',
    apply: (value, raw, draft) => {
      draft.python.wsgiFile = resolve(nonEmpty(raw, value));
    },
  },
  {
    name: 'callable', aliases: [], takesValue: true, repeats: false, valueHint: 'NAME',
    summary: 'the WSGI callable\'s name in the Python module or file (default application)',
    apply: (value, raw, draft) => {
      draft.python.callable = nonEmpty(raw, value);
    },
  },
  {
    name: 'pythonpath', aliases: ['--python-path', '--pp'], takesValue: true, repeats: true, valueHint: 'DIR',
    summary: 'add DIR to the Python app\'s sys.path',
    apply: (value, raw, draft) => {
      draft.python.pythonPath.push(nonEmpty(raw, value));
    },
  },
  {
    name: 'virtualenv', aliases: ['-H', '--home', '--venv'], takesValue: true, repeats: false, valueHint: 'DIR',
    summary: 'the Python virtualenv the app runs in',
    apply: (value, raw, draft) => {
      draft.python.virtualenv = nonEmpty(raw, value);
    },
  },
  {
    name: 'plugin', aliases: ['--plugins'], takesValue: true, repeats: true, valueHint: 'NAME[,NAME…]',
    summary: 'uWSGI plugins for the Python workers (python3 is always loaded)',
    apply: (value, raw, draft) => {
      for (const name of nonEmpty(raw, value).split(',')) if (name.trim() !== '') draft.python.plugins.push(name.trim());
    },
  },
];

/** --module's value once detect.ts called it Python. */
export function setPythonModule(raw: string, text: string, draft: PythonDraft): void {
  if (!PYTHON_MODULE.test(text)) throw new ConfigError(raw, `"${text}" is not a Python module name (expected dotted.name[:callable])`);
  if (draft.module !== undefined) throw new ConfigError(raw, `a Python module is already given (${draft.module})`);
  draft.module = text;
}

/** True when some option asked for a Python app. */
export function wantsPython(draft: PythonDraft): boolean {
  return draft.module !== undefined || draft.wsgiFile !== undefined;
}

/** The Python app, or undefined when none was asked for (a stray --callable alone is an error). */
export function pythonConfig(draft: PythonDraft): PythonAppConfig | undefined {
  if (!wantsPython(draft)) {
    const stray = draft.callable !== undefined ? '--callable' : draft.virtualenv !== undefined ? '--virtualenv' : draft.pythonPath.length > 0 ? '--pythonpath' : undefined;
    if (stray !== undefined) throw new ConfigError(stray, 'needs a Python app (--module py:NAME, --wsgi or --wsgi-file)');
    return undefined;
  }
  if (draft.module !== undefined && draft.wsgiFile !== undefined) throw new ConfigError('--wsgi-file', `and the Python module ${draft.module}: choose one`);
  const plugins = draft.plugins.some((name) => /^python/.test(name)) ? draft.plugins : ['python3', ...draft.plugins];
  return {
    source: draft.module ?? draft.wsgiFile!,
    ...(draft.module === undefined ? {} : { module: draft.module }),
    ...(draft.wsgiFile === undefined ? {} : { wsgiFile: draft.wsgiFile }),
    ...(draft.callable === undefined ? {} : { callable: draft.callable }),
    pythonPath: draft.pythonPath,
    ...(draft.virtualenv === undefined ? {} : { virtualenv: draft.virtualenv }),
    plugins,
  };
}

function nonEmpty(raw: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new ConfigError(raw, 'needs a value');
  return value;
}
