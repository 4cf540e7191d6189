// How spry starts a managed uWSGI worker so that it dies with spry, even when spry dies by
// SIGKILL and cannot stop it: `setpriv --pdeathsig KILL -- /bin/sh -c 'CHECK' SPRY_PID uwsgi …`.
//
// Why Linux's parent-death signal (prctl PR_SET_PDEATHSIG), set by util-linux's setpriv:
//  - uWSGI's own parent checks (--no-orphans, the Emperor's pipe, --master-fifo) are its master
//    process's, and spry runs its uWSGI workers without one (spry is their master);
//  - a pipe uWSGI would notice closing does not exist outside those: a worker never reads
//    stdin, and nothing in uwsgi-core watches an inherited descriptor;
//  - setpriv is in util-linux, Essential on Debian (installed everywhere), and costs one exec
//    per worker start (it execs in place: no process stays between spry and uWSGI).
// The signal is the kernel's: it fires whatever kills spry. Its traps, and how they are met:
//  - it fires when the parent *thread* ends, not the process: libuv forks from the thread that
//    calls spawn(), here always Node's main thread, which ends only with the process;
//  - a credential change in the child clears it: setpriv sets it last, after any change, and
//    uWSGI is given no --uid of its own (a master has dropped privileges before it spawns);
//  - spry dying between fork and setpriv's prctl would leave the worker unwatched: the shell
//    step then finds its parent is no longer spry ($PPID, read after the prctl) and exits
//    instead of starting uWSGI. One more exec of dash, at worker start only.
// Without setpriv (not Linux, not Debian), uWSGI is started directly and one line says that its
// workers would outlive a SIGKILLed spry.

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { logLine } from '../log.ts';

export interface Launch {
  readonly file: string;
  readonly args: readonly string[];
}

/** Runs `exec "$@"` only while the parent is still the process named by $0 (spry's pid). */
const STILL_OUR_CHILD = 'test "$PPID" = "$0" && exec "$@"';
const SHELL = '/bin/sh';

let setprivPath: string | null | undefined;

/** `binary` (already found on PATH) started so that the kernel kills it when this process dies. */
export function tiedToThisProcess(binary: string, args: readonly string[]): Launch {
  if (setprivPath === undefined) {
    setprivPath = findOnPath('setpriv') ?? null;
    if (setprivPath === null) logLine('setpriv (Debian\'s util-linux) is not on PATH: uWSGI workers would outlive spry if it were killed by SIGKILL');
  }
  if (setprivPath === null) return { file: binary, args };
  return { file: setprivPath, args: ['--pdeathsig', 'KILL', '--', SHELL, '-c', STILL_OUR_CHILD, String(process.pid), binary, ...args] };
}

/** The first executable `name` on PATH, as spawn() would find it; undefined if there is none. */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
