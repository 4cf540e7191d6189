// Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time,
// as "self %  self ms  function  file:line". Usage: node bench/tools/cpuprofile-top.ts FILE [N]

import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface SelfTimeEntry {
  readonly functionName: string;
  readonly location: string;
  readonly selfMs: number;
  readonly selfPercent: number;
}

/** Self time per function (samples weighted by their time deltas), largest first. */
export function topSelfTime(profile: Profile, count: number): SelfTimeEntry[] {
  const nodeById = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<string, { functionName: string; location: string; micros: number }>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = nodeById.get(profile.samples[i]);
    const delta = profile.timeDeltas[i + 1] ?? 0;
    if (node === undefined) continue;
    total += delta;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const location = url === '' ? '' : `${shorten(url)}:${lineNumber + 1}`;
    const key = `${name} ${location}`;
    const entry = selfMicros.get(key) ?? { functionName: name, location, micros: 0 };
    entry.micros += delta;
    selfMicros.set(key, entry);
  }
  return [...selfMicros.values()]
    .sort((a, b) => b.micros - a.micros)
    .slice(0, count)
    .map((entry) => ({
      functionName: entry.functionName,
      location: entry.location,
      selfMs: Math.round(entry.micros / 100) / 10,
      selfPercent: total === 0 ? 0 : Math.round((1000 * entry.micros) / total) / 10,
    }));
}

const PROJECT_URL = new URL('../../', import.meta.url).href;

function shorten(url: string): string {
  if (url.startsWith(PROJECT_URL)) return url.slice(PROJECT_URL.length);
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules);
  return url.replace(/^file:\/\//, '');
}

export function formatTop(entries: readonly SelfTimeEntry[]): string {
  return entries.map((entry) => `${entry.selfPercent.toFixed(1).padStart(5)} %  ${entry.selfMs.toFixed(0).padStart(6)} ms  ${entry.functionName}  ${entry.location}`).join('\n');
}

if (import.meta.main) {
  const [file, countText = '20'] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write('usage: cpuprofile-top.ts FILE.cpuprofile [N]\n');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  process.stdout.write(`${formatTop(topSelfTime(profile, Number(countText)))}\n`);
}
