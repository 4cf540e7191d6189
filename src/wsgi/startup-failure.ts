// Why a managed uWSGI worker did not start, as the one line spry prints before exiting 2. The
// verdicts, checked in this order:
//   no uwsgi binary (spawn ENOENT)               → install Debian's uwsgi-core
//   "UNABLE to load uWSGI plugin: …python3…"     → install Debian's uwsgi-plugin-python3
//   "UNABLE to load uWSGI plugin: …"             → the plugin named
//   the app did not load ("unable to load app")  → the Python exception uWSGI printed before it
//                                                  (else its last line that explains)
//   anything else                                → uWSGI's last line and its exit status

import type { PythonAppConfig } from '../config/config.ts';
import { SpryError } from '../errors.ts';

const PLUGIN_FAILURE = /UNABLE to load uWSGI plugin: (.*?) !!!/;
const APP_FAILURE = /unable to load app \d+/;
const PYTHON_EXCEPTION = /^[A-Z]\w*(?:Error|Exception|Exit|Interrupt)\b.*:/;
/** Banner lines that never explain a failure. */
const NOISE = /^\*\*\*|^!!!|^\s*$|running as root|^your |^mapped \d+|^detected |^lock engine|^thunder lock|^uwsgi socket \d+|^Python (?:version|main interpreter)|^spawned |^WSGI app/;

export function missingBinary(): SpryError {
  return appError('uWSGI is not installed: no uwsgi on PATH (install Debian\'s uwsgi-core, and uwsgi-plugin-python3 for Python apps)');
}

/** The verdict on a uWSGI process that exited (`how`: status or signal) before it was ready. */
export function startupFailure(app: PythonAppConfig, output: string, how: string): SpryError {
  const plugin = PLUGIN_FAILURE.exec(output);
  if (plugin !== null) {
    const python = /python3?_plugin\.so/.test(plugin[1]);
    return appError(python ? `uWSGI's python3 plugin is not installed (install Debian's uwsgi-plugin-python3): ${plugin[1]}` : `uWSGI cannot load a plugin: ${plugin[1]}`);
  }
  const lines = output.split('\n').map((line) => line.trim());
  const appLine = lines.findIndex((line) => APP_FAILURE.test(line));
  if (appLine !== -1) {
    // Python's own exception line (`SyntaxError: …`) explains more than uWSGI's `failed to compile`.
    const before = lines.slice(0, appLine).reverse();
    const cause = before.find((line) => PYTHON_EXCEPTION.test(line)) ?? before.find((line) => !NOISE.test(line));
    return appError(`${describe(app)}: the Python app does not load: ${cause ?? lines[appLine]}`);
  }
  const last = lines.reverse().find((line) => !NOISE.test(line)) ?? '';
  return appError(`${describe(app)}: uWSGI exited (${how}) before it was ready${last === '' ? '' : `: ${last}`}`);
}

function describe(app: PythonAppConfig): string {
  return app.wsgiFile !== undefined ? `--wsgi-file ${app.wsgiFile}` : `--module ${app.source}`;
}

function appError(message: string): SpryError {
  return new SpryError('SPRY_ERR_APP_LOAD', message);
}
