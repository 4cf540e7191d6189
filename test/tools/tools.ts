// The third-party programs tests drive (curl, nghttp, h2load, chromium; uWSGI and nginx as
// peers): where each binary is, the skip reason when it is missing (naming the Debian package
// .ci/run installs, which fails a run with any skip), and running one with a time limit.

import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Tool {
  readonly name: string;
  /** Absolute path, or undefined when the binary is not installed. */
  readonly path: string | undefined;
  /** For `test(name, { skip: tool.skip }, …)`: false when present, else why the test is skipped. */
  readonly skip: string | false;
}

/** Looks for `name` in /usr/bin and /usr/sbin (where Debian's packages put it), then on PATH. */
export function findTool(name: string, debianPackage: string): Tool {
  const dirs = ['/usr/bin', '/usr/sbin', ...(process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '' && !dir.includes('node_modules'))];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return { name, path: candidate, skip: false };
    } catch {
      // not here
    }
  }
  return { name, path: undefined, skip: `${name} is not installed (Debian package ${debianPackage}; .ci/run installs it)` };
}

export const CURL = findTool('curl', 'curl');
export const NGHTTP = findTool('nghttp', 'nghttp2-client');
export const H2LOAD = findTool('h2load', 'nghttp2-client');
export const CHROMIUM = findTool('chromium', 'chromium');
export const UWSGI = findTool('uwsgi', 'uwsgi-core');
export const NGINX = findTool('nginx', 'nginx');
export const OPENSSL = findTool('openssl', 'openssl');
export const SYSTEMD_SOCKET_ACTIVATE = findTool('systemd-socket-activate', 'systemd');

export interface ToolResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/**
 * Runs `tool args…` and resolves when it exits. The tool gets its own process group, so a
 * timeout kills it with everything it started (Chromium's zygote and renderers included).
 */
export function runTool(tool: Tool, args: readonly string[], options: { timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<ToolResult> {
  if (tool.path === undefined) return Promise.reject(new Error(tool.skip || `${tool.name} is missing`));
  const path = tool.path;
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: options.env ?? process.env });
    const stdout: Buffer[] = [];
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => (stderr += text));
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new Error(`${tool.name} ${args.join(' ')} did not finish within ${options.timeoutMs} ms; stderr:\n${stderr.slice(-4000)}`));
        return;
      }
      resolve({ status, signal, stdout: Buffer.concat(stdout), stderr });
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Throws with the tool's output unless it exited with status 0. */
export function assertExitedOk(result: ToolResult, what: string): void {
  if (result.status === 0) return;
  throw new Error(`${what} exited with status ${result.status}${result.signal ? ` (${result.signal})` : ''}; stderr:\n${result.stderr.slice(-4000)}\nstdout:\n${result.stdout.toString('utf8').slice(-2000)}`);
}
export const PROMTOOL = findTool('promtool', 'prometheus');
export const PROMETHEUS = findTool('prometheus', 'prometheus');
