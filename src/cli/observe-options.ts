// The access log, stats and metrics options (uWSGI's names and meanings; src/observe/ does the
// work). Values are checked here, at startup: a bad one is one line and exit status 2.

import type { ObserveConfig, StatsAddress } from '../config/config.ts';
import { ConfigError } from '../errors.ts';
import { compileFormat } from '../observe/log-format.ts';
import { parseAddress } from './address.ts';
import type { OptionSpec } from './options.ts';

export interface ObserveDraft {
  disableLogging?: boolean;
  logto?: string;
  logto2?: string;
  logFormat?: string;
  logXForwardedFor?: boolean;
  readonly touchLogreopen: string[];
  stats?: StatsAddress;
  statsHttp?: boolean;
  metrics?: StatsAddress;
}

type ObserveOption = OptionSpec<{ readonly observe: ObserveDraft }>;

export const OBSERVE_OPTIONS: readonly ObserveOption[] = [
  {
    name: 'logto', aliases: [], takesValue: true, repeats: false, valueHint: 'FILE',
    summary: 'append the access log to FILE instead of stderr',
    apply: (value, raw, draft) => {
      draft.observe.logto = path(raw, value);
    },
  },
  {
    name: 'logto2', aliases: [], takesValue: true, repeats: false, valueHint: 'FILE',
    summary: 'append spry\'s own lines (startup, the master\'s, app and backend failures) to FILE',
    apply: (value, raw, draft) => {
      draft.observe.logto2 = path(raw, value);
    },
  },
  {
    name: 'log-format', aliases: ['--logformat'], takesValue: true, repeats: false, valueHint: 'FORMAT',
    summary: 'access line template with uWSGI\'s %(var)s (%(addr) %(method) %(uri) %(status) %(msecs) …, plus %(protocol) %(stream) %(backend)), or json',
    apply: (value, raw, draft) => {
      const format = value ?? '';
      if (format === '') throw new ConfigError(raw, 'needs a value');
      compileFormat(format, { pid: 0, wid: 0, xForwardedFor: false }, raw); // refuses unknown variables now
      draft.observe.logFormat = format;
    },
  },
  {
    name: 'disable-logging', aliases: [], takesValue: false, repeats: false,
    summary: 'no access log (spry\'s own lines still go to stderr or --logto2)',
    apply: (_value, _raw, draft) => {
      draft.observe.disableLogging = true;
    },
  },
  {
    name: 'log-x-forwarded-for', aliases: [], takesValue: false, repeats: false,
    summary: 'log the client address from X-Forwarded-For (its first entry) when a request has one',
    apply: (_value, _raw, draft) => {
      draft.observe.logXForwardedFor = true;
    },
  },
  {
    name: 'touch-logreopen', aliases: [], takesValue: true, repeats: true, valueHint: 'FILE',
    summary: 'reopen the log files (after logrotate moved them) when FILE\'s modification time changes; SIGHUP does too',
    apply: (value, raw, draft) => {
      draft.observe.touchLogreopen.push(path(raw, value));
    },
  },
  {
    name: 'stats', aliases: ['--stats-server'], takesValue: true, repeats: false, valueHint: 'ADDR',
    summary: 'serve uWSGI-style JSON stats on ADDR (host:port or a unix socket path): one document per connection',
    apply: (value, raw, draft) => {
      draft.observe.stats = statsAddress(raw, value);
    },
  },
  {
    name: 'stats-http', aliases: [], takesValue: false, repeats: false,
    summary: 'serve the --stats document over HTTP',
    apply: (_value, _raw, draft) => {
      draft.observe.statsHttp = true;
    },
  },
  {
    name: 'metrics', aliases: [], takesValue: true, repeats: false, valueHint: 'ADDR',
    summary: 'serve Prometheus metrics at http://ADDR/metrics (host:port or a unix socket path)',
    apply: (value, raw, draft) => {
      draft.observe.metrics = statsAddress(raw, value);
    },
  },
];

export function observeConfig(draft: ObserveDraft): ObserveConfig {
  if (draft.statsHttp === true && draft.stats === undefined) throw new ConfigError('--stats-http', 'serves the --stats document: give --stats ADDR too');
  return {
    accessLog: draft.disableLogging !== true,
    ...(draft.logto === undefined ? {} : { logto: draft.logto }),
    ...(draft.logto2 === undefined ? {} : { logto2: draft.logto2 }),
    ...(draft.logFormat === undefined ? {} : { logFormat: draft.logFormat }),
    logXForwardedFor: draft.logXForwardedFor === true,
    touchLogreopen: draft.touchLogreopen,
    ...(draft.stats === undefined ? {} : { stats: draft.stats }),
    statsHttp: draft.statsHttp === true,
    ...(draft.metrics === undefined ? {} : { metrics: draft.metrics }),
  };
}

function path(raw: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new ConfigError(raw, 'needs a file name');
  return value;
}

function statsAddress(raw: string, value: string | undefined): StatsAddress {
  const text = value ?? '';
  if (text.includes('/')) return { kind: 'unix', path: text };
  const address = parseAddress(raw, text);
  if (address.kind !== 'tcp') throw new ConfigError(raw, `"${text}": expected host:port or a unix socket path`);
  return address;
}
