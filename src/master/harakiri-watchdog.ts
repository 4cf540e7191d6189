// --harakiri under a master: a worker whose event loop is blocked (a handler spinning, a sync
// call that never returns) cannot answer anything, not even its own 504s. Workers send a
// heartbeat over IPC from a timer, which only runs while their loop does; a worker silent for
// the harakiri time is killed, and the master's respawn replaces it, as uWSGI's does.

import type { ChildProcess } from 'node:child_process';
import { logLine } from '../log.ts';

/** How often a worker beats: often enough that a late beat is a blocked loop, not jitter. */
export function heartbeatIntervalMs(harakiriMs: number): number {
  return Math.max(100, Math.min(1000, Math.floor(harakiriMs / 4)));
}

export class HarakiriWatchdog {
  private readonly harakiriMs: number;
  private readonly lastBeat = new Map<ChildProcess, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(harakiriMs: number) {
    this.harakiriMs = harakiriMs;
    this.timer = setInterval(() => this.check(), heartbeatIntervalMs(harakiriMs));
    this.timer.unref();
  }

  /** A ready worker, or one that just beat. */
  beat(child: ChildProcess): void {
    this.lastBeat.set(child, Date.now());
  }

  /** Not watched any more: it exited, or it is draining (its drain has its own mercy). */
  forget(child: ChildProcess): void {
    this.lastBeat.delete(child);
  }

  stop(): void {
    clearInterval(this.timer);
    this.lastBeat.clear();
  }

  private check(): void {
    const now = Date.now();
    for (const [child, last] of this.lastBeat) {
      if (now - last <= this.harakiriMs) continue;
      this.lastBeat.delete(child);
      logLine(`SPRY_ERR_HARAKIRI: worker ${child.pid} gave no heartbeat for ${this.harakiriMs / 1000} s (its event loop is stuck): killing it`);
      child.kill('SIGKILL');
    }
  }
}
