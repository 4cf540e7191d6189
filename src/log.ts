// spry's log: one line per event on stderr, or appended to --logto2 when given. Debug
// tracers are switched on by name with SPRY_DEBUG (comma-separated, or `*`), e.g. SPRY_DEBUG=spdy.
// These lines are rare (startup, failures): each is one synchronous O_APPEND write, whole.

import { closeSync, openSync, writeSync } from 'node:fs';

const enabled = new Set((process.env.SPRY_DEBUG ?? '').split(',').map((name) => name.trim()).filter(Boolean));

let logFile: { readonly path: string; fd: number } | undefined;

export function logLine(message: string): void {
  const line = `spry: ${message}\n`;
  if (logFile === undefined) {
    process.stderr.write(line);
    return;
  }
  try {
    writeSync(logFile.fd, line);
  } catch {
    process.stderr.write(line);
  }
}

/** Sends spry's own lines to `path` (appended) from now on. */
export function setLogFile(path: string): void {
  if (logFile?.path === path) return;
  const fd = openSync(path, 'a');
  if (logFile !== undefined) closeSync(logFile.fd);
  logFile = { path, fd };
}

/** logrotate moved the file: a new one at the same path. */
export function reopenLogFile(): void {
  if (logFile === undefined) return;
  const fd = openSync(logFile.path, 'a');
  closeSync(logFile.fd);
  logFile.fd = fd;
}

/** A tracer for one subsystem: free when its name is not in SPRY_DEBUG. */
export function tracer(name: string): ((message: string) => void) | undefined {
  if (!enabled.has(name) && !enabled.has('*')) return undefined;
  return (message) => process.stderr.write(`spry:${name}: ${message}\n`);
}
