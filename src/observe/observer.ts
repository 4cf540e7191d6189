// Where every request's AccessRecord goes when it starts and ends: the stats counters and the
// access log's writer, whichever are on. observed-app.ts calls it for apps' requests,
// observed-upgrade.ts for upgraded connections, counters.ts for the front ends' own refusals;
// nothing here is per protocol.

import type { AccessRecord } from './access-record.ts';
import type { LogWriter } from './log-writer.ts';
import type { Stats } from './stats.ts';

export class Observer {
  readonly stats: Stats;
  readonly log: LogWriter | undefined;

  constructor(stats: Stats, log: LogWriter | undefined) {
    this.stats = stats;
    this.log = log;
  }

  started(record: AccessRecord): void {
    this.stats.started(record);
  }

  finished(record: AccessRecord): void {
    this.stats.finished(record);
    this.log?.push(record);
  }

  /** An upgraded connection's 101 went out: open until its ended(). */
  upgraded(record: AccessRecord): void {
    this.stats.upgraded(record);
  }

  /** A record that never was an app's exchange: an upgraded connection closed, a front end's refusal. */
  ended(record: AccessRecord): void {
    this.stats.ended(record);
    this.log?.push(record);
  }

  pushed(sent: boolean): void {
    if (sent) this.stats.pushesSent++;
    else this.stats.pushesRefused++;
  }

  appFailed(): void {
    this.stats.exceptions++;
  }
}
