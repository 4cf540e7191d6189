// When to respawn a process that died unexpectedly: after 100 ms, doubling per recent death up
// to 10 s; more than CRASH_LOOP_LIMIT deaths within CRASH_LOOP_WINDOW_MS is a crash loop, and
// respawning stops. spry's workers (master.ts) and the uWSGI workers (src/wsgi) share the rule.

const RESPAWN_BASE_MS = 100;
const RESPAWN_MAX_MS = 10_000;
export const CRASH_LOOP_LIMIT = 10;
export const CRASH_LOOP_WINDOW_MS = 60_000;

export class RespawnBackoff {
  private readonly deaths: number[] = [];

  /** Records a death now: the delay before the respawn, or 'crash-loop' to give up. */
  died(now = Date.now()): number | 'crash-loop' {
    this.deaths.push(now);
    while (this.deaths.length > 0 && this.deaths[0] < now - CRASH_LOOP_WINDOW_MS) this.deaths.shift();
    if (this.deaths.length > CRASH_LOOP_LIMIT) return 'crash-loop';
    return Math.min(RESPAWN_BASE_MS * 2 ** (this.deaths.length - 1), RESPAWN_MAX_MS);
  }

  /** Deaths within the window (for messages). */
  get recent(): number {
    return this.deaths.length;
  }
}
