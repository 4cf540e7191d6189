// spry as npm users get it: `npm pack` of this checkout (its prepack builds dist/), installed into
// a fresh temporary project with `npm install --offline`, then run under the Node running the
// tests. installedPackage() does that once per test process and hands every test the same
// project; tests add their own files to it (an app, a script, a .ts to type-check) and run them.
//
// Offline and registry-free: pako, spry's one dependency, is packed from this checkout's
// node_modules (the published files, as npm installed them) and installed beside spry's tarball,
// where it satisfies spry's `pako` range. The pack rebuilds the checkout's dist/, so only one
// test file may use this helper (two processes would build dist/ at once): add cases to
// installed-package.test.ts.

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { SPRY_ROOT } from '../helpers/spry-command.ts';

const NPM_TIMEOUT_MS = 120_000;
const RUN_TIMEOUT_MS = 60_000;

export interface CommandResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface InstalledPackage {
  /** The temporary project: package.json, node_modules/spry, node_modules/pako. */
  readonly dir: string;
  /** The tarball's paths as npm pack listed them (`dist/src/index.js`, `package.json`, …). */
  readonly tarballFiles: readonly string[];
  /** node_modules/spry/package.json, as installed. */
  readonly manifest: Readonly<Record<string, unknown>>;
  /** This process's environment with this Node first on PATH (what the bin's shebang finds). */
  readonly env: NodeJS.ProcessEnv;
  /** The installed bin, node_modules/.bin/spry: startSpry's `command` with `cwd: dir`. */
  readonly bin: readonly [string];
  /** Writes `source` to `file` (relative to the project) and returns its absolute path. */
  write(file: string, source: string): Promise<string>;
  /** Runs `command args…` in the project with `env` until it exits (killed after a minute). */
  run(command: string, args: readonly string[]): Promise<CommandResult>;
  /** Runs this Node with `args` in the project. */
  node(args: readonly string[]): Promise<CommandResult>;
}

let installing: Promise<InstalledPackage> | undefined;
let workDir: string | undefined;

/** Packs and installs spry once per process; later calls get the same project. */
export function installedPackage(): Promise<InstalledPackage> {
  return (installing ??= install());
}

/** Removes the temporary project (for an `after` hook). */
export async function removeInstalledPackage(): Promise<void> {
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
}

async function install(): Promise<InstalledPackage> {
  workDir = await mkdtemp(join(tmpdir(), 'spry-package-'));
  const tarballs = join(workDir, 'tarballs');
  const dir = join(workDir, 'project');
  await mkdir(tarballs);
  await mkdir(dir);
  const env = { ...process.env, PATH: [dirname(process.execPath), process.env.PATH ?? ''].join(delimiter) };

  const [packed] = JSON.parse(await npm(['pack', '--json', '--pack-destination', tarballs], SPRY_ROOT, env)) as PackResult[];
  // pako's own prepack runs its test suite; the files it ships are already in node_modules.
  const [pako] = JSON.parse(await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', tarballs], join(SPRY_ROOT, 'node_modules/pako'), env)) as PackResult[];

  await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name: 'spry-package-test', private: true, type: 'module' }, null, 2)}\n`);
  await npm(['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', join(tarballs, packed.filename), join(tarballs, pako.filename)], dir, env);
  const manifest = JSON.parse(await readFile(join(dir, 'node_modules/spry/package.json'), 'utf8')) as Record<string, unknown>;

  const run = (command: string, args: readonly string[]): Promise<CommandResult> => runCommand(command, args, dir, env);
  return {
    dir,
    tarballFiles: packed.files.map((file) => file.path),
    manifest,
    env,
    bin: [join(dir, 'node_modules/.bin/spry')],
    async write(file, source) {
      const path = join(dir, file);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, source);
      return path;
    },
    run,
    node: (args) => run(process.execPath, args),
  };
}

interface PackResult {
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}

/** npm (the one on PATH, run by this Node) in `cwd`; resolves with its stdout, rejects on failure. */
async function npm(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  const result = await runCommand('npm', args, cwd, env, NPM_TIMEOUT_MS);
  if (result.status !== 0) throw new Error(`npm ${args.join(' ')} (in ${cwd}) exited with ${result.status}:\n${result.stderr}`);
  return result.stdout;
}

function runCommand(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, timeout = RUN_TIMEOUT_MS): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const status = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ status, stdout, stderr: error !== null && status === null ? `${stderr}\n${error.message}` : stderr });
    });
  });
}
