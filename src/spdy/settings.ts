// SETTINGS, both ways (docs/spdy-protocol.md §7): what a session announces on connect, and what
// the peer's SETTINGS change here (its initial window for every open stream, its stream limit
// for our pushes). Decided without acting: the session sends the RST_STREAMs or GOAWAY.

import type { StreamTuning } from '../config/config.ts';
import { RstStatus, SettingsId } from './constants.ts';
import type { FlowControl } from './flow-control.ts';
import type { SettingsEntry, SettingsFrame } from './frames.ts';
import { SpdySessionError, SpdyStreamError } from './protocol-error.ts';
import type { PushLedger } from './push-ledger.ts';
import type { SessionRole } from './role.ts';
import type { SpdyStream } from './stream.ts';

/** Our SETTINGS on connect: the initial window, and (servers) the streams a client may open. */
export function initialSettings(role: SessionRole, flow: FlowControl, tuning: StreamTuning): SettingsEntry[] {
  const entries: SettingsEntry[] = [{ id: SettingsId.INITIAL_WINDOW_SIZE, flags: 0, value: flow.localInitialWindow }];
  if (role.announcesStreamLimit) entries.unshift({ id: SettingsId.MAX_CONCURRENT_STREAMS, flags: 0, value: tuning.maxConcurrentStreams });
  return entries;
}

export interface PeerSettingsOutcome {
  /** Streams whose window the new initial window overflowed: each gets RST_STREAM. */
  readonly streamErrors: SpdyStreamError[];
  /** The initial window grew: streams waiting for window may send. */
  readonly windowGrew: boolean;
}

/** Applies the peer's SETTINGS; a session error if its initial window is not one. */
export function applyPeerSettings(frame: SettingsFrame, flow: FlowControl, streams: ReadonlyMap<number, SpdyStream>, pushes: PushLedger): SpdySessionError | PeerSettingsOutcome {
  const seen = new Set<number>();
  const streamErrors: SpdyStreamError[] = [];
  let windowGrew = false;
  for (const { id, value } of frame.entries) {
    if (seen.has(id)) continue; // within one frame the first value wins (docs/spdy-protocol.md §7)
    seen.add(id);
    if (id === SettingsId.INITIAL_WINDOW_SIZE) {
      windowGrew = value > flow.peerInitialWindow;
      const verdict = flow.applyPeerInitialWindow(value, streams.values());
      if (verdict instanceof SpdySessionError) return verdict;
      for (const stream of verdict) {
        streamErrors.push(new SpdyStreamError('SPRY_ERR_SPDY_FLOW_CONTROL', stream.id, RstStatus.FLOW_CONTROL_ERROR, `stream ${stream.id}'s window overflowed`));
      }
    } else if (id === SettingsId.MAX_CONCURRENT_STREAMS) {
      pushes.peerMaxConcurrentStreams = value;
    }
  }
  return { streamErrors, windowGrew };
}
