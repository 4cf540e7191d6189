// The profiling pass of scenarios 1 and 2: spry runs again under the same load with
// `node --cpu-prof`, and the functions with the most self time are summarised. A separate pass,
// so the profiler's overhead never touches a measured figure.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { topSelfTime, type SelfTimeEntry } from '../tools/cpuprofile-top.ts';
import type { ScenarioContext } from './context.ts';
import { HELLO_MODULE, startSpry, spryTlsArgs, type RunningServer } from './servers.ts';

const TOP_FUNCTIONS = 12;

export interface ProfileSummary {
  readonly file: string;
  readonly top: readonly SelfTimeEntry[];
}

/**
 * Starts a profiled spry (by default the TLS port with the hello app), runs `load` against it,
 * stops it, and summarises the profile.
 */
export async function profileSpry(
  context: ScenarioContext,
  name: string,
  load: (server: RunningServer) => Promise<unknown>,
  spry: { args: readonly string[]; module?: string } = { args: spryTlsArgs(context.cert), module: HELLO_MODULE },
): Promise<ProfileSummary> {
  const fileName = `${name}.cpuprofile`;
  const server = await startSpry({
    ...spry,
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir', context.profileDir, '--cpu-prof-name', fileName],
    name: 'spry (profiled)',
  });
  try {
    context.log(`spry under --cpu-prof (${name})`);
    await load(server);
  } finally {
    await server.process.stop(10_000); // a clean exit writes the profile
  }
  const file = join(context.profileDir, fileName);
  if (!(await readdir(context.profileDir)).includes(fileName)) throw new Error(`no profile at ${file}`);
  const top = topSelfTime(JSON.parse(await readFile(file, 'utf8')), TOP_FUNCTIONS);
  return { file, top };
}

export function profileNotes(summary: ProfileSummary): string[] {
  return [
    `spry's top self time under this load (${summary.file}):`,
    ...summary.top.map((entry) => `  ${entry.selfPercent.toFixed(1).padStart(5)} %  ${entry.functionName}  ${entry.location}`),
  ];
}
