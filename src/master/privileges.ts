// Dropping root after binding: supplementary groups, then the group, then the user (in that
// order, or the later steps are no longer allowed). Any failure is fatal: a server that meant
// to give up root and silently kept it is worse than one that does not start.

import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import { ConfigError, SpryError } from '../errors.ts';

interface Account {
  readonly name: string;
  readonly id: number;
  /** For users: their primary group. */
  readonly gid: number;
}

/** Resolves --uid and --gid now, so an unknown name is a startup error before anything is bound. */
export function resolveAccounts(uid: string | undefined, gid: string | undefined): { user?: Account; group?: Account } {
  return {
    ...(uid === undefined ? {} : { user: lookup('/etc/passwd', uid, '--uid', 'user') }),
    ...(gid === undefined ? {} : { group: lookup('/etc/group', gid, '--gid', 'group') }),
  };
}

export function dropPrivileges(accounts: { user?: Account; group?: Account }): void {
  const { user, group } = accounts;
  if (user === undefined && group === undefined) return;
  const gid = group?.id ?? user?.gid;
  try {
    if (process.getuid!() === 0) {
      // Root's supplementary groups must go: the user's own (plus the group), or just the group.
      if (user !== undefined) (process as unknown as PosixGroups).initgroups(user.name, gid!);
      else process.setgroups!([gid!]);
    }
    if (gid !== undefined) process.setgid!(gid);
    if (user !== undefined) process.setuid!(user.id);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(user !== undefined ? '--uid' : '--gid', `cannot drop privileges to ${user?.name ?? ''}${group ? `:${group.name}` : ''} (${reason})`);
  }
  if (user !== undefined && (process.getuid!() !== user.id || process.geteuid!() !== user.id)) {
    throw new ConfigError('--uid', `still running as uid ${process.geteuid!()} after dropping to ${user.name}`);
  }
}

export function refuseRootIfAsked(refuseRoot: boolean): void {
  if (refuseRoot && process.geteuid!() === 0) {
    throw new ConfigError('--refuse-root', 'spry would run the app as root; give --uid USER');
  }
}

/** process.initgroups exists on POSIX (spry's platform) but is missing from @types/node. */
interface PosixGroups {
  initgroups(user: string, extraGroup: number): void;
}

/** `USER[:GROUP]` (names or numbers) as ids, for --chown-socket; the group defaults to the user's. */
export function resolveOwner(option: string, text: string): { uid: number; gid: number } {
  const [userName = '', groupName] = text.split(':');
  if (userName === '') throw new ConfigError(option, `"${text}": expected USER[:GROUP]`);
  const user = lookup('/etc/passwd', userName, option, 'user');
  return { uid: user.id, gid: groupName === undefined || groupName === '' ? user.gid : lookup('/etc/group', groupName, option, 'group').id };
}

/** Finds a name or number in /etc/passwd or /etc/group (name:x:id:gid:…). */
function lookup(file: string, wanted: string, option: string, kind: string): Account {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // No database: only numbers can be used.
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 3) continue;
    const id = Number(fields[2]);
    if (fields[0] === wanted || (/^\d+$/.test(wanted) && id === Number(wanted))) {
      return { name: fields[0], id, gid: kind === 'user' ? Number(fields[3]) : id };
    }
  }
  if (/^\d+$/.test(wanted)) return { name: wanted, id: Number(wanted), gid: Number(wanted) };
  throw new ConfigError(option, `unknown ${kind} "${wanted}"`);
}

/**
 * After the drop: a worker is `node BIN` in this directory, loading the app, as the user now
 * running. Anything in that chain the user may not open is one line now, instead of a worker
 * that dies with a stack trace (or a spawn that fails with EACCES).
 */
export function checkWorkerCanRun(who: string, need: { readonly execute: readonly string[]; readonly read: readonly string[] }): void {
  const check = (path: string, mode: number): void => {
    try {
      accessSync(path, mode);
    } catch (error) {
      throw workerCannotRun(who, path, error);
    }
  };
  for (const path of need.execute) check(path, fsConstants.X_OK);
  for (const path of need.read) check(path, fsConstants.R_OK);
}

/** `the worker cannot run as nobody: /srv/app/bin/spry.ts, EACCES` */
export function workerCannotRun(who: string, path: string, error: unknown): SpryError {
  return new SpryError('SPRY_ERR_CONFIG', `the worker cannot run as ${who}: ${path}, ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
}
