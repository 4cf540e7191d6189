// A real spry process, run as a user runs it: `bin/spry.ts` under this Node (or an installed bin)
// with the given arguments (listeners on port 0), its bound ports read from the "serving … on URL
// (protocols)" lines it prints on stderr, and stopped with SIGTERM (SIGKILL if it does not exit in
// time).

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { SPRY_NODE_ARGS, SPRY_ROOT } from './spry-command.ts';

const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
/**
 * "spry: serving node-listener app ./examples/testapp.ts:testApp on https://127.0.0.1:PORT (h2, …)",
 * or from a master: "spry: serving ./examples/testapp.ts:testApp on https://… (h2, …) with 2 worker(s): …"
 */
const SERVING_LINE = /^spry: serving (?:(\S+) app )?(.+?) on (https?|uwsgi):\/\/(\[[^\]]+\]|[^:/]+):(\d+) \(([^)]*)\)(?: with .*)?$/;
/** The same for a unix socket: "… on http+unix:/run/app.sock (http/1.1, h2c)". */
const SERVING_UNIX_LINE = /^spry: serving (?:(\S+) app )?(.+?) on (https?|uwsgi)\+unix:(\S+) \(([^)]*)\)(?: with .*)?$/;

/** `--https2`, `--http` and `--socket` listeners. */
export type ListenerScheme = 'https' | 'http' | 'uwsgi';

export interface SpryListenerInfo {
  /** How spry runs the app: `node-listener` or `fetch`; undefined when a master reports it. */
  readonly appStyle: string | undefined;
  /** The --module value, as spry echoes it. */
  readonly module: string;
  readonly scheme: ListenerScheme;
  readonly host: string;
  readonly port: number;
  /** As the startup line lists them, e.g. ['h2', 'spdy/3.1', 'spdy/3', 'spdy/2', 'http/1.1']. */
  readonly protocols: readonly string[];
  /** `https://127.0.0.1:PORT` */
  readonly origin: string;
  /** A unix socket's path (`@name` for an abstract one); host and port are then '' and 0. */
  readonly path?: string;
}

export interface SpryProcess {
  readonly child: ChildProcess;
  /** Every listener, in the order spry reported them (--https2 ones first, then --http). */
  readonly listeners: readonly SpryListenerInfo[];
  /** The first listener of that scheme; throws if there is none. */
  listener(scheme: ListenerScheme): SpryListenerInfo;
  /** All stderr so far. */
  stderr(): string;
  /** SIGTERM, then SIGKILL after a grace period; resolves with the exit code (null if killed). */
  stop(): Promise<number | null>;
}

export interface StartSpryOptions {
  /** How many "serving" lines to wait for; by default one per --https2 and --http argument. */
  readonly listeners?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly startTimeoutMs?: number;
  /** What runs spry, before its arguments: by default bin/spry.ts under this Node; an installed bin. */
  readonly command?: readonly [string, ...string[]];
  /** Where it runs: by default the project root, which --module paths are relative to. */
  readonly cwd?: string;
}

/** The test app, the module argument most tests want. */
export const TEST_APP_ARGS = ['--module', './examples/testapp.ts:testApp'] as const;

/**
 * Spawns `node bin/spry.ts ...args` from the project root and resolves once every listener has
 * reported its address. Rejects (with spry's stderr) if it exits or stays silent first.
 */
export async function startSpry(args: readonly string[], options: StartSpryOptions = {}): Promise<SpryProcess> {
  const expected = options.listeners ?? countListenerOptions(args);
  assert.ok(expected > 0, 'startSpry: args name no --https2, --http or --socket listener');
  const [command, ...commandArgs] = options.command ?? [process.execPath, ...SPRY_NODE_ARGS];
  const child = spawn(command, [...commandArgs, ...args], {
    cwd: options.cwd ?? SPRY_ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let pending = '';
  const listeners: SpryListenerInfo[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stdout!.resume();
  child.stderr!.setEncoding('utf8');

  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`spry did not report ${expected} listener(s) within ${options.startTimeoutMs ?? START_TIMEOUT_MS} ms; stderr:\n${stderr}`));
    }, options.startTimeoutMs ?? START_TIMEOUT_MS);
    child.stderr!.on('data', (text: string) => {
      stderr += text;
      pending += text;
      let newline: number;
      while ((newline = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        const listener = parseServingLine(line);
        if (listener !== undefined) listeners.push(listener);
      }
      if (listeners.length >= expected) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`spry exited with status ${code} before it was listening; stderr:\n${stderr}`));
    });
  });

  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  try {
    await ready;
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    child,
    listeners,
    listener(scheme) {
      const found = listeners.find((listener) => listener.scheme === scheme);
      if (found === undefined) throw new Error(`spry reported no ${scheme} listener; stderr:\n${stderr}`);
      return found;
    },
    stderr: () => stderr,
    stop,
  };
}

/** `--https2 V`, `--https2=V`, `--http V`, `--http=V`, `--socket V`, `--socket=V` each make one listener. */
function countListenerOptions(args: readonly string[]): number {
  return args.filter((arg) => /^--(https2|http|socket)(=|$)/.test(arg)).length;
}

function parseServingLine(line: string): SpryListenerInfo | undefined {
  const unix = SERVING_UNIX_LINE.exec(line);
  if (unix !== null) {
    const [, appStyle, module, scheme, path, protocols] = unix;
    return { appStyle, module, scheme: scheme as ListenerScheme, host: '', port: 0, protocols: protocols.split(', '), origin: `${scheme}+unix:${path}`, path };
  }
  const match = SERVING_LINE.exec(line);
  if (match === null) return undefined;
  const [, appStyle, module, scheme, host, port, protocols] = match; // appStyle: undefined when the group did not match
  return {
    appStyle,
    module,
    scheme: scheme as ListenerScheme,
    host,
    port: Number(port),
    protocols: protocols.split(', '),
    origin: `${scheme}://${host}:${port}`,
  };
}
