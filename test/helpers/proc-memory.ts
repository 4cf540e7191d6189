// A child process's resident memory from /proc (Linux): now, and the peak since it started.

import { readFileSync } from 'node:fs';

function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

/** Resident bytes now. */
export function residentBytes(pid: number): number {
  return statusKiB(pid, 'VmRSS') * 1024;
}

/** The most resident bytes the process has ever had. */
export function peakResidentBytes(pid: number): number {
  return statusKiB(pid, 'VmHWM') * 1024;
}
