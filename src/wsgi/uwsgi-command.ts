// The command line of one managed uWSGI worker: a single uWSGI process (no uWSGI master: spry is
// the master) running the Python app on a unix socket in spry's private directory.

import type { PythonAppConfig } from '../config/config.ts';

/** Python's own and uWSGI's, so a uwsgi packet as large as spry sends (64 KiB of vars) is read whole. */
const BUFFER_SIZE = 65_535;

export function uwsgiArgs(app: PythonAppConfig, socketPath: string): string[] {
  return [
    '--plugin', app.plugins.join(','),
    '--socket', socketPath,
    // An app that does not load ends the process (status 22) instead of serving 500s.
    '--need-app',
    // spry logs each request itself; uWSGI's line would be a second one.
    '--disable-logging',
    '--buffer-size', String(BUFFER_SIZE),
    // A client gone mid-response is spry's to handle; the app should not see an exception for it.
    '--ignore-sigpipe', '--ignore-write-errors', '--disable-write-exception',
    ...app.pythonPath.flatMap((dir) => ['--pythonpath', dir]),
    ...(app.virtualenv === undefined ? [] : ['--virtualenv', app.virtualenv]),
    // Before the app: uWSGI reads --callable when it loads --wsgi-file.
    ...(app.callable === undefined ? [] : ['--callable', app.callable]),
    ...(app.module === undefined ? [] : ['--module', app.module]),
    ...(app.wsgiFile === undefined ? [] : ['--wsgi-file', app.wsgiFile]),
  ];
}

/** uWSGI prints this once its (only) worker is about to accept. */
export const READY_LINE = /^spawned uWSGI worker \d+/m;
