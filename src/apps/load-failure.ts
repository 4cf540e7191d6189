// Why a --module did not load, short enough for a terminal: the error's first line, then where
// it happened (the file and line of a syntax error, or the first frames of the app's own code,
// Node's internals left out) as a few indented lines.

import { fileURLToPath } from 'node:url';

/** At most this many frame lines follow the cause. */
const MAX_FRAMES = 5;
/** `/app/x.ts:3`: the first line of a syntax error's stack where Node knows the place. */
const SOURCE_PLACE = /^(\/\S*|file:\/\/\S+):(\d+)$/;
const FRAME = /^\s+at /;
/** spry's own source tree (src/, or dist/src/ when installed). */
const SPRY_SOURCES = fileURLToPath(new URL('../', import.meta.url));

export function describeLoadFailure(error: unknown): { readonly reason: string; readonly frames: readonly string[] } {
  if (!(error instanceof Error)) return { reason: String(error), frames: [] };
  const reason = error.message.split('\n')[0];
  const stack = (error.stack ?? '').split('\n');
  const place = SOURCE_PLACE.exec(stack[0] ?? '');
  if (place !== null) {
    // Node's own decoration: the place, a few source lines, a caret under the culprit's.
    const [, file, line] = place;
    const caret = stack.findIndex((text) => /^\s*\^+\s*$/.test(text));
    const source = caret > 1 ? stack[caret - 1].trim() : undefined;
    return { reason, frames: [`at ${pathOf(file)}:${line}`, ...(source ? [`  ${source}`] : [])] };
  }
  // The app's frames end where spry's loader (which imported it) begins.
  const ours = stack.findIndex((line) => FRAME.test(line) && line.includes(SPRY_SOURCES));
  const frames = stack
    .slice(0, ours === -1 ? undefined : ours)
    .filter((line) => FRAME.test(line) && !line.includes('node:internal/') && !line.includes('(node:'))
    .slice(0, MAX_FRAMES)
    .map((line) => line.trim().replace(/file:\/\/\S+/g, (url) => pathOf(url)));
  return { reason, frames };
}

function pathOf(location: string): string {
  if (!location.startsWith('file://')) return location;
  // `file:///app/x.ts:3:7`: only the URL part converts.
  const match = /^(file:\/\/[^:]*)(.*)$/.exec(location)!;
  try {
    return fileURLToPath(match[1]) + match[2];
  } catch {
    return location;
  }
}
