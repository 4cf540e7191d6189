// What a peer's DATA, SYN_REPLY or HEADERS frame may do to the stream it names (SPDY/3 §2.3,
// SPDY/3 §2.6.2-§2.6.3, §2.6.7), decided without acting: a verdict is nothing (go on), DROP (a late
// frame for a stream that is gone, needing no answer), or the stream error the session must
// answer with RST_STREAM. And what a header block holds, or its fault.

import type { StreamTuning } from '../config/config.ts';
import type { FlatHeaders } from '../exchange/exchange.ts';
import type { HeaderInflater } from './compression.ts';
import { GoawayStatus, RstStatus } from './constants.ts';
import { readHeaderBlock } from './header-block.ts';
import { SpdySessionError, SpdyStreamError, type SpdyProtocolError } from './protocol-error.ts';
import type { SessionRole } from './role.ts';
import type { SpdyStream } from './stream.ts';
import type { StreamRegistry } from './stream-registry.ts';
import type { SpdyVersion } from './versions.ts';

/** The frame is for a stream that is gone and needs no answer. */
export const DROP = 'drop';
export type RecvVerdict = SpdyStreamError | typeof DROP | undefined;

/** DATA on `streamId` (the flow-control charge comes after, for an open stream). */
export function checkData(role: SessionRole, registry: StreamRegistry, streamId: number, goawaySent: boolean): RecvVerdict {
  const stream = registry.get(streamId);
  if (stream === undefined) {
    if (goawaySent || registry.wasKnown(streamId)) return DROP;
    return new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', streamId, RstStatus.INVALID_STREAM, `DATA on stream ${streamId}, which was never opened`);
  }
  if (stream.remoteFin) return new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', streamId, RstStatus.STREAM_ALREADY_CLOSED, `DATA after FIN on stream ${streamId}`);
  if (role.name === 'client' && !stream.isServerStream && stream.onResponse !== null && !stream.gotReply) {
    return new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', streamId, RstStatus.PROTOCOL_ERROR, `DATA before SYN_REPLY on stream ${streamId}`);
  }
  return undefined;
}

/** A SYN_REPLY (`isReply`) or HEADERS frame on `id`. */
export function checkHeaders(role: SessionRole, version: SpdyVersion, registry: StreamRegistry, id: number, isReply: boolean): RecvVerdict {
  const stream: SpdyStream | undefined = registry.get(id);
  if (stream === undefined) {
    if (registry.wasKnown(id)) return DROP;
    return new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', id, RstStatus.INVALID_STREAM, `${isReply ? 'SYN_REPLY' : 'HEADERS'} on unknown stream ${id}`);
  }
  if (stream.remoteFin) return new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', id, RstStatus.STREAM_ALREADY_CLOSED, `headers after FIN on stream ${id}`);
  if (!isReply) return undefined;
  if (stream.isServerStream || role.name === 'server') {
    return new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', id, RstStatus.PROTOCOL_ERROR, `SYN_REPLY for client stream ${id}`);
  }
  if (stream.gotReply) return new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', id, version.secondReplyStatus, `second SYN_REPLY on stream ${id}`);
  return undefined;
}

/**
 * Inflates and decodes a header block: its headers, or its fault: a stream error for what the
 * block says, a session error once the shared compression context is broken.
 */
export function inflateHeaderBlock(version: SpdyVersion, inflater: HeaderInflater, block: Uint8Array, streamId: number, tuning: StreamTuning): FlatHeaders | SpdyProtocolError {
  let length: number;
  try {
    length = inflater.inflateInPlace(block);
  } catch (error) {
    if (error instanceof SpdySessionError) return error;
    return new SpdySessionError('SPRY_ERR_SPDY_COMPRESSION', error instanceof Error ? error.message : String(error), GoawayStatus.INTERNAL_ERROR);
  }
  return readHeaderBlock(version, inflater.output, streamId, tuning, length);
}
