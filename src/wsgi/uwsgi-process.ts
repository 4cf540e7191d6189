// One uWSGI process serving on a unix socket: started, watched until it says it is
// ready (or why it is not), its stderr passed on as spry's once it runs, stopped gracefully
// (SIGHUP: a single-process uWSGI finishes its request and exits) or hard after the mercy.
// It is started tied to spry (tied-launch.ts): the kernel kills it if spry dies unasked.

import { spawn, type ChildProcess } from 'node:child_process';
import type { PythonAppConfig } from '../config/config.ts';
import type { SpryError } from '../errors.ts';
import { READY_LINE, uwsgiArgs } from './uwsgi-command.ts';
import { missingBinary, startupFailure } from './startup-failure.ts';
import { findOnPath, tiedToThisProcess } from './tied-launch.ts';

/** Startup output kept for the failure message: the end of it is what explains. */
const STARTUP_OUTPUT_BYTES = 64 << 10;
const UWSGI_BINARY = 'uwsgi';

export class UwsgiProcess {
  readonly child: ChildProcess;
  /** Resolves once uWSGI accepts; rejects with the one-line verdict if it exits first. */
  readonly ready: Promise<void>;
  /** Resolves with how it ended, once it has. */
  readonly exited: Promise<string>;
  private stopping = false;

  constructor(app: PythonAppConfig, socketPath: string, readyTimeoutMs: number) {
    // Found here, not by spawn(): the launcher would report a missing uwsgi as its own failure.
    // Not found, it is spawned as it is named: spawn() fails with ENOENT, reported below.
    const binary = findOnPath(UWSGI_BINARY);
    const args = uwsgiArgs(app, socketPath);
    const launch = binary === undefined ? { file: UWSGI_BINARY, args } : tiedToThisProcess(binary, args);
    this.child = spawn(launch.file, launch.args, { stdio: ['ignore', 'inherit', 'pipe'] });
    const child = this.child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve(signal ?? `status ${code}`));
      child.once('error', (error) => resolve(error.message)); // never started: no 'exit' follows
    });
    let output = '';
    let running = false;
    child.stderr!.setEncoding('utf8');
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.kill();
        reject(startupFailure(app, output, `not ready within ${readyTimeoutMs / 1000} s`));
      }, readyTimeoutMs);
      child.stderr!.on('data', (text: string) => {
        // Once it runs, its stderr is spry's (tracebacks of failing requests, its own warnings).
        if (running) return void process.stderr.write(text);
        output = (output + text).slice(-STARTUP_OUTPUT_BYTES);
        if (READY_LINE.test(output)) {
          running = true;
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(error.code === 'ENOENT' ? missingBinary() : startupFailure(app, error.message, 'not started'));
      });
      void this.exited.then((how) => {
        clearTimeout(timer);
        if (!running) reject(startupFailure(app, output, how) satisfies SpryError);
      });
    });
    this.ready.catch(() => {}); // the caller awaits it; an early exit must not be unhandled
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** True once stop() was called: its exit is expected. */
  get retiring(): boolean {
    return this.stopping;
  }

  /** Lets the request in hand finish, then exits; SIGKILL after `mercyMs`. */
  stop(mercyMs: number): Promise<string> {
    this.stopping = true;
    if (this.alive) {
      this.child.kill('SIGHUP');
      const timer = setTimeout(() => this.kill(), mercyMs);
      timer.unref();
      void this.exited.then(() => clearTimeout(timer));
    }
    return this.exited;
  }

  kill(): void {
    this.stopping = true;
    if (this.alive) this.child.kill('SIGKILL');
  }
}
