// PINGs (SPDY/3 §2.6.5): the peer's are echoed at once; ours carry ids of our own parity, and
// each resolves with its round-trip time when the peer echoes it. An echo of a PING we never
// sent (or answered already) is an invalid frame, for the session's budget.

import { isPeerId, type SessionRole } from './role.ts';

/** What a received PING is. */
export type PingVerdict = 'echo' | 'answered' | 'unknown';

export class PingPong {
  private nextId: number;
  private readonly waiting = new Map<number, () => void>();
  private readonly role: SessionRole;

  constructor(role: SessionRole) {
    this.role = role;
    this.nextId = role.firstPingId;
  }

  /** A new PING's id, and its round-trip time in ms once echoed. */
  start(): { id: number; rttMs: Promise<number> } {
    const id = this.nextId;
    this.nextId = (this.nextId + 2) >>> 0;
    const started = performance.now();
    const rttMs = new Promise<number>((resolve) => {
      this.waiting.set(id, () => resolve(performance.now() - started));
    });
    return { id, rttMs };
  }

  /** A PING arrived: the peer's (echo it), the echo of ours (answered), or neither. */
  received(id: number): PingVerdict {
    if (isPeerId(this.role, id)) return 'echo';
    const resolve = this.waiting.get(id);
    if (resolve === undefined) return 'unknown';
    this.waiting.delete(id);
    resolve();
    return 'answered';
  }
}
