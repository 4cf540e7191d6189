// spry's entry point: argv in, exit status out. A configuration error is one line on stderr and
// status 2, with nothing started; a running server stops cleanly on SIGINT or SIGTERM.

import { readFile } from 'node:fs/promises';
import { SpryError } from '../errors.ts';
import type { SpryConfig } from '../config/config.ts';
import { startServer } from '../server.ts';
import { formatAddress } from './address.ts';
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

  for (const listener of config.https2) {
    if (listener.selfSigned) {
      printLine(`no cert=/key= given for ${formatAddress(listener.addr)}; using a self-signed certificate for localhost`);
    }
  }

  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(config);
  } catch (error) {
    return report(error);
  }
  return waitForShutdown(server);
}

/** Resolves with the exit status once a signal has closed the server; a second signal forces. */
function waitForShutdown(server: { close(): Promise<void> }): Promise<number> {
  return new Promise((resolve) => {
    let closing = false;
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
      resolve(status);
    };
    for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal);
  });
}

/** Prints `error` as one line; configuration and app-loading errors exit 2, the rest 1. */
function report(error: unknown, status?: number): number {
  if (error instanceof SpryError) {
    printLine(error.message);
    return status ?? (error.code === 'SPRY_ERR_CONFIG' || error.code === 'SPRY_ERR_APP_LOAD' ? EXIT_CONFIG : EXIT_FAILURE);
  }
  printLine(error instanceof Error ? error.message : String(error));
  return status ?? EXIT_FAILURE;
}

function printLine(message: string): void {
  process.stderr.write(`spry: ${message.replace(/\s*\n\s*/g, ' ').trim()}\n`);
}

async function packageVersion(): Promise<string> {
  const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
  const parsed: unknown = JSON.parse(text);
  const version = typeof parsed === 'object' && parsed !== null && 'version' in parsed ? parsed.version : undefined;
  return typeof version === 'string' ? version : 'unknown';
}
