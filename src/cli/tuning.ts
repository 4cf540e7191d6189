// The tuning knobs (StreamTuning): one table drives the --https2 keys, the matching global
// options (`--spdy-window N` sets the default every listener starts from) and --help.

import { DEFAULTS, type StreamTuning } from '../config/config.ts';
import { parseInteger, type IntegerRange } from './numbers.ts';

export interface TuningKey {
  /** The --https2 key, and the global option's name without the dashes. */
  readonly name: string;
  readonly field: keyof StreamTuning;
  readonly summary: string;
  readonly range: IntegerRange;
}

// SPDY/3 §2.6.8: windows are 31-bit. §2.2: frame lengths are 24-bit.
const MAX_WINDOW_BYTES = 2 ** 31 - 1;
const MAX_FRAME_BYTES = 2 ** 24 - 1;
const d = DEFAULTS.tuning;

export const TUNING_KEYS: readonly TuningKey[] = [
  {
    name: 'spdy-max-streams', field: 'maxConcurrentStreams',
    summary: `concurrent streams per client, SPDY and h2, and pipelined HTTP/1.1 requests served at once (default ${d.maxConcurrentStreams})`,
    range: { min: 1, max: 100_000, unit: 'streams' },
  },
  {
    // h2 (RFC 9113 §6.5.2) allows windows from 0, but a window that small only stalls uploads.
    name: 'spdy-window', field: 'initialWindowBytes',
    summary: `per-stream upload window in bytes, SPDY and h2 (default ${d.initialWindowBytes})`,
    range: { min: 1024, max: MAX_WINDOW_BYTES, unit: 'bytes' },
  },
  {
    // Below 64 KiB would mean shrinking the window every spdy/3.1 session starts with.
    name: 'spdy-session-window', field: 'sessionWindowBytes',
    summary: `spdy/3.1 session upload window in bytes (default ${d.sessionWindowBytes})`,
    range: { min: 65_536, max: MAX_WINDOW_BYTES, unit: 'bytes' },
  },
  {
    // SPDY/3 §2.2.1: implementations must accept control frames of at least 8192 bytes.
    name: 'spdy-max-frame', field: 'maxControlFrameBytes',
    summary: `largest SPDY control frame accepted, in bytes (default ${d.maxControlFrameBytes})`,
    range: { min: 8192, max: MAX_FRAME_BYTES, unit: 'bytes' },
  },
  {
    name: 'spdy-max-headers', field: 'maxHeaderBlockBytes',
    summary: `largest header block accepted, in bytes, SPDY and h2 (default ${d.maxHeaderBlockBytes})`,
    range: { min: 8192, max: 16 << 20, unit: 'bytes' },
  },
  {
    name: 'spdy-max-header-count', field: 'maxHeaderCount',
    summary: `most header pairs in one block, SPDY and h2 (default ${d.maxHeaderCount})`,
    range: { min: 16, max: 65_535, unit: 'headers' },
  },
  {
    name: 'spdy-max-data-frame', field: 'maxDataFrameBytes',
    summary: `largest SPDY DATA frame sent, in bytes (default ${d.maxDataFrameBytes})`,
    range: { min: 1024, max: MAX_FRAME_BYTES, unit: 'bytes' },
  },
  {
    name: 'write-buffer', field: 'writeBufferBytes',
    summary: `response bytes buffered per stream and per socket before the app waits (default ${d.writeBufferBytes})`,
    range: { min: 1024, max: 64 << 20, unit: 'bytes' },
  },
  {
    name: 'read-buffer', field: 'readBufferBytes',
    summary: `upload bytes held for an app that has not read them before the client waits (default ${d.readBufferBytes})`,
    range: { min: 1024, max: 64 << 20, unit: 'bytes' },
  },
  {
    name: 'spdy-max-owed-control', field: 'maxOwedControlFrames',
    summary: `SPDY control frames that may wait for a client that does not read before GOAWAY (default ${d.maxOwedControlFrames})`,
    range: { min: 16, max: 1_000_000, unit: 'frames' },
  },
  {
    name: 'abuse-window', field: 'abuseWindowMs',
    summary: `the sliding window the abuse budgets count over, in ms, SPDY and h2 (default ${d.abuseWindowMs})`,
    range: { min: 100, max: 3_600_000, unit: 'ms' },
  },
  {
    name: 'max-peer-resets', field: 'maxPeerResets',
    summary: `streams a client may reset before their response, per abuse window, SPDY and h2 (default ${d.maxPeerResets})`,
    range: { min: 1, max: 1_000_000, unit: 'streams' },
  },
  {
    name: 'max-invalid-frames', field: 'maxInvalidFrames',
    summary: `frames for streams that are gone a client may send, per abuse window (h2: per session) (default ${d.maxInvalidFrames})`,
    range: { min: 1, max: 1_000_000, unit: 'frames' },
  },
  {
    name: 'max-stream-errors', field: 'maxStreamErrors',
    summary: `stream errors a client may cause, per abuse window (h2: rejected streams per session) (default ${d.maxStreamErrors})`,
    range: { min: 1, max: 1_000_000, unit: 'errors' },
  },
  {
    name: 'session-buffer', field: 'sessionBufferBytes',
    summary: `SPDY response bytes queued per connection above which stalled streams are reset (default ${d.sessionBufferBytes})`,
    range: { min: 64 << 10, max: 1 << 30, unit: 'bytes' },
  },
  {
    name: 'limit-post', field: 'limitPostBytes',
    summary: 'largest request body in bytes: a longer declared one is answered 413 unread, a longer streamed one cut (default 0: no limit)',
    range: { min: 0, max: Number.MAX_SAFE_INTEGER, unit: 'bytes' },
  },
];

export function parseTuningValue(option: string, culprit: string, key: TuningKey, text: string): number {
  return parseInteger(option, culprit, text, key.range);
}
