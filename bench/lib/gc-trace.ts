// What V8's young-generation collector did in a server during one load run, read from the lines
// `--trace-gc-nvp` prints (one per collection, on the server's stdout; the bench flag only, never
// spry's own). On this VM the scavenger is in one of two modes from run to run, with the same
// code: scavenges that copy little (well under a millisecond to a few), or ones that keep and
// then promote megabytes each (15–40 ms). A CPU-per-request figure means something only next to
// one from the same mode, so each run says which it was in.

import { median } from './context.ts';

export type GcMode = 'light' | 'promoting';

export interface GcWindow {
  readonly scavenges: number;
  readonly markCompacts: number;
  /** Main-thread pause of every collection in the window, in ms. */
  readonly pauseMs: number;
  readonly medianScavengeMs: number;
  /** Bytes a scavenge kept (copied or promoted), median over the window. */
  readonly medianSurvivedBytes: number;
  readonly promotedBytes: number;
  readonly mode: GcMode;
}

/**
 * Above this many bytes kept per scavenge (copied and promoted, median), a run is in the
 * promoting mode. The runs of scenario 10 fall well on either side of it: 0.1–2 MB in the light
 * mode, 14–27 MB in the other (SPDY/3.1 and h2, 4 × 100 streams, hello app). A full GC forced in
 * the middle of a load was seen to leave a process at ~7 MB: light by this line, but with a
 * mark-compact every few scavenges, which the per-run description shows.
 */
const PROMOTING_KEPT_BYTES = 10e6;

/** The collections in `text`, the server's stdout over one run. */
export function gcWindow(text: string): GcWindow {
  const survived: number[] = [];
  const scavengeMs: number[] = [];
  let markCompacts = 0;
  let pauseMs = 0;
  let promotedBytes = 0;
  for (const line of text.split('\n')) {
    const kind = /\bgc=(\w+)/.exec(line)?.[1];
    if (kind === undefined) continue;
    const pause = field(line, 'pause');
    pauseMs += pause;
    if (kind === 's') {
      scavengeMs.push(pause);
      survived.push(field(line, 'new_space_survived') + field(line, 'promoted'));
      promotedBytes += field(line, 'promoted');
    } else if (kind === 'mc' || kind === 'mmc' || kind === 'ms') markCompacts++;
  }
  const medianSurvivedBytes = survived.length === 0 ? 0 : median(survived);
  return {
    scavenges: scavengeMs.length,
    markCompacts,
    pauseMs,
    medianScavengeMs: scavengeMs.length === 0 ? 0 : median(scavengeMs),
    medianSurvivedBytes,
    promotedBytes,
    mode: medianSurvivedBytes > PROMOTING_KEPT_BYTES ? 'promoting' : 'light',
  };
}

function field(line: string, name: string): number {
  const value = new RegExp(`\\b${name}=([\\d.]+)`).exec(line)?.[1];
  return value === undefined ? 0 : Number(value);
}

/** `light: 9 scavenges, median 1.8 ms, 1.8 MB kept` */
export function describeGc(gc: GcWindow): string {
  return `${gc.mode}: ${gc.scavenges} scavenges, median ${gc.medianScavengeMs.toFixed(1)} ms, ${(gc.medianSurvivedBytes / 1e6).toFixed(1)} MB kept${gc.markCompacts > 0 ? `, ${gc.markCompacts} mark-compact` : ''}`;
}
