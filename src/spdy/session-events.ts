// What a SPDY session is made with, and what it tells its listeners.

import type { StreamTuning } from '../config/config.ts';
import type { ConnectionInfo, FlatHeaders } from '../exchange/exchange.ts';
import type { SettingsFrame } from './frames.ts';
import type { SpdyProtocolError } from './protocol-error.ts';
import type { SpdyStream } from './stream.ts';
import type { SpdyVersion } from './versions.ts';

export interface SpdySessionOptions {
  readonly version: SpdyVersion;
  readonly role: 'server' | 'client';
  readonly tuning: StreamTuning;
  readonly connection: ConnectionInfo;
}

export interface SpdySessionEvents {
  /** Server: a new request stream. */
  stream: [stream: SpdyStream];
  /** Client: the server pushed a stream associated with `associatedStreamId`. */
  push: [stream: SpdyStream, headers: FlatHeaders, associatedStreamId: number];
  goaway: [lastGoodStreamId: number, status: number | undefined];
  /** A protocol error by the peer (after the RST_STREAM or GOAWAY went out), for logs. */
  protocolError: [error: SpdyProtocolError];
  settings: [frame: SettingsFrame];
  close: [];
}
