// The fence's one verdict: every private part spry borrows from Node.js or pako is checked once,
// when its module loads, and a missing one stops spry there with an error naming the runtime's
// version and each missing part, instead of failing later in the middle of a request.

import { SpryError } from '../errors.ts';

/** A borrowed part, by the name an engineer would grep for, and how to tell it is there. */
export type InternalChecks = Readonly<Record<string, () => boolean>>;

/** The names of the parts whose check fails (or throws). */
export function missingInternals(checks: InternalChecks): string[] {
  const missing: string[] = [];
  for (const [name, present] of Object.entries(checks)) {
    let ok = false;
    try {
      ok = present();
    } catch {
      // A check that throws found the part changed: missing, as far as spry can tell.
    }
    if (!ok) missing.push(name);
  }
  return missing;
}

/** Throws SPRY_ERR_INTERNALS_MISSING if any check fails; `version` names the runtime (`Node.js v26.1.0`). */
export function requireInternals(version: () => string, checks: InternalChecks): void {
  const missing = missingInternals(checks);
  if (missing.length === 0) return;
  const owner = version();
  throw new SpryError('SPRY_ERR_INTERNALS_MISSING', `${owner} lacks what spry relies on: ${missing.join('; ')}. This spry does not support ${owner}; update spry.`);
}
