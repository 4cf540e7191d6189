// spry's entry point: argv in, exit status out. A configuration error is one line on stderr and
// status 2, with nothing started; a running server stops cleanly on SIGINT or SIGTERM.

import { readFile } from 'node:fs/promises';
import { SpryError } from '../errors.ts';
import type { SpryConfig } from '../config/config.ts';
import { startMaster } from '../master/master.ts';
import { describeApp, startServer } from '../server.ts';
import { formatAddress } from './address.ts';
import { describeBound } from '../listen/bind.ts';
import { parseTokens, tokenizeCommandLine } from './options.ts';
import { formatUsage } from './usage.ts';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_CONFIG = 2;
const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export async function main(argv: string[]): Promise<number> {
  let config: SpryConfig;
  try {
    const tokens = tokenizeCommandLine(argv);
    if (tokens.some((token) => token.name === 'help')) {
      process.stdout.write(formatUsage());
      return EXIT_OK;
    }
    if (tokens.some((token) => token.name === 'version')) {
      process.stdout.write(`spry ${await packageVersion()}\n`);
      return EXIT_OK;
    }
    config = await parseTokens(tokens);
  } catch (error) {
    return report(error);
  }

  let server: Runnable;
  try {
    server = needsMaster(config) ? await startMasterAndLog(config) : await startServer(config);
  } catch (error) {
    return report(error);
  }
  for (const listener of config.https2) {
    if (listener.selfSigned) {
      printLine(`no cert=/key= given for ${formatAddress(listener.addr)}; using a self-signed certificate for localhost`);
    }
  }
  return waitForShutdown(server);
}

/** What main runs until a signal: a single-process server, or a master with workers. */
interface Runnable {
  close(): Promise<void>;
  reload?(): void;
  /** A single process's SIGHUP: the log files reopen (a master's reload reopens them anyway). */
  reopenLogs?(): void;
  /** A single process's SIGHUP, too: the certificates are read again (a master's reload does it). */
  reloadCertificates?(): Promise<void>;
  readonly failed?: Promise<number>;
}

/** A master is needed for workers, shared sockets, or privileges to drop (uWSGI's rule, plus --master). */
function needsMaster(config: SpryConfig): boolean {
  const p = config.processes;
  return p.master || p.workers > 1 || p.sharedSockets.length > 0 || p.uid !== undefined || p.gid !== undefined || p.refuseRoot || p.touchReload.length > 0 || p.pidfile !== undefined;
}

async function startMasterAndLog(config: SpryConfig): Promise<Runnable> {
  const master = await startMaster(config);
  for (const { scheme, address, protocols } of master.listeners) {
    printLine(`serving ${describeApp(config)} on ${describeBound(scheme, address)} (${protocols.join(', ')}) with ${config.processes.workers} worker(s): ${master.workerPids().join(', ')}`);
  }
  return master;
}

/**
 * Resolves with the exit status once a signal has closed the server (a second one forces), or
 * when a master gives up by itself. SIGHUP reloads a master gracefully; a single process reopens
 * its logs and reads its certificates again.
 */
function waitForShutdown(server: Runnable): Promise<number> {
  return new Promise((resolve) => {
    let closing = false;
    const onReload = (): void => {
      if (server.reload !== undefined) return server.reload();
      server.reopenLogs?.();
      void server.reloadCertificates?.();
    };
    process.on('SIGHUP', onReload);
    void server.failed?.then((status) => {
      if (closing) return;
      closing = true;
      void server.close().then(() => finish(status));
    });
    const onSignal = (signal: NodeJS.Signals): void => {
      if (closing) {
        printLine(`${signal} again; exiting without waiting for connections to finish`);
        process.exit(EXIT_FAILURE);
      }
      closing = true;
      server.close().then(
        () => finish(EXIT_OK),
        (error: unknown) => finish(report(error, EXIT_FAILURE)),
      );
    };
    const finish = (status: number): void => {
      for (const signal of SHUTDOWN_SIGNALS) process.off(signal, onSignal);
      process.off('SIGHUP', onReload);
      resolve(status);
    };
    for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal);
  });
}

/** Prints `error` as one line; configuration and app-loading errors exit 2, the rest 1. */
function report(error: unknown, status?: number): number {
  if (error instanceof SpryError) {
    if (error.code === 'SPRY_ERR_APP_LOAD') printAppLoadFailure(error.message);
    else printLine(error.message);
    return status ?? (error.code === 'SPRY_ERR_CONFIG' || error.code === 'SPRY_ERR_APP_LOAD' ? EXIT_CONFIG : EXIT_FAILURE);
  }
  printLine(error instanceof Error ? error.message : String(error));
  return status ?? EXIT_FAILURE;
}

function printLine(message: string): void {
  process.stderr.write(`spry: ${message.replace(/\s*\n\s*/g, ' ').trim()}\n`);
}

/** The cause on the first line, then the indented place lines load-failure.ts made, as they are. */
function printAppLoadFailure(message: string): void {
  const [cause = '', ...frames] = message.split('\n');
  printLine(cause);
  for (const frame of frames) process.stderr.write(`${frame.replace(/[\r\n]/g, '')}\n`);
}

async function packageVersion(): Promise<string> {
  // Through the package's own `./package.json` export: the same file from the checkout's src/ and
  // from the compiled dist/src/ that npm installs.
  const text = await readFile(new URL(import.meta.resolve('spry/package.json')), 'utf8');
  const parsed: unknown = JSON.parse(text);
  const version = typeof parsed === 'object' && parsed !== null && 'version' in parsed ? parsed.version : undefined;
  return typeof version === 'string' ? version : 'unknown';
}
