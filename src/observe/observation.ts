// One process's observation, as the config asks for it: the Observer the app is wrapped with
// (undefined when the access log, stats and metrics are all off), its log writer, and the
// reopening of the log files (--touch-logreopen, and SIGHUP where the caller wires it).

import { unwatchFile, watchFile } from 'node:fs';
import type { App } from '../apps/app.ts';
import type { ObserveConfig } from '../config/config.ts';
import { logLine, reopenLogFile, setLogFile } from '../log.ts';
import { countInto } from './counters.ts';
import { compileFormat } from './log-format.ts';
import { LogWriter } from './log-writer.ts';
import { observeApp } from './observed-app.ts';
import { Observer } from './observer.ts';
import { Stats, type BackendStats, type StatsSnapshot } from './stats.ts';

export interface Observation {
  readonly observer: Observer | undefined;
  /** The app, wrapped when anything observes it. */
  wrap(app: App): App;
  snapshot(): StatsSnapshot;
  /** Where the stats read the --http-to backends' state from. */
  reportBackends(source: () => BackendStats[]): void;
  /** Reopens the log files at their paths (logrotate moved them). */
  reopen(): void;
  close(): void;
}

let current: Observation | undefined;

/** The process's observation, for the few places (app error reports) that count into it. */
export function currentObservation(): Observation | undefined {
  return current;
}

export function startObservation(config: ObserveConfig | undefined, workerId: number): Observation {
  const ownLines = config?.logto2;
  if (ownLines !== undefined) setLogFile(ownLines);
  const needed = config !== undefined && (config.accessLog || config.stats !== undefined || config.metrics !== undefined);
  const stats = new Stats(workerId);
  let writer: LogWriter | undefined;
  if (needed && config.accessLog) {
    writer = new LogWriter(config.logto, compileFormat(config.logFormat, { pid: process.pid, wid: workerId, xForwardedFor: config.logXForwardedFor }));
    const log = writer;
    stats.droppedLines = () => log.dropped;
  }
  const observer = needed ? new Observer(stats, writer) : undefined;
  countInto(observer);
  const flushAtExit = (): void => writer?.flushSync();
  process.on('exit', flushAtExit);
  const reopen = (): void => {
    writer?.reopen();
    reopenLogFile();
  };
  const touched = config?.touchLogreopen ?? [];
  for (const file of touched) {
    watchFile(file, { interval: 500 }, (now, before) => {
      if (now.mtimeMs === before.mtimeMs) return;
      reopen();
      logLine(`${file} was touched: log files reopened`);
    });
  }
  const observation: Observation = {
    observer,
    wrap: (app) => (observer === undefined ? app : observeApp(app, observer)),
    snapshot: () => stats.snapshot(),
    reportBackends(source) {
      stats.backends = source;
    },
    reopen,
    close() {
      for (const file of touched) unwatchFile(file);
      process.off('exit', flushAtExit);
      void writer?.close();
      if (current === observation) {
        current = undefined;
        countInto(undefined);
      }
    },
  };
  current = observation;
  return observation;
}
