// Pure SPDY frame encoders: each returns the bytes of one frame (DATA: only its 8-byte header,
// so payloads are written without a copy). Header blocks come in already compressed.
// Strict on send: exact lengths, no unknown flags, v2's GOAWAY without a status (docs/spdy-protocol.md §18).

import { FLAG_FIN, FLAG_UNIDIRECTIONAL, FRAME_HEADER_BYTES, FrameType } from './constants.ts';
import type { SettingsEntry } from './frames.ts';
import type { SpdyVersion } from './versions.ts';

function controlFrame(version: SpdyVersion, type: number, flags: number, payloadBytes: number): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadBytes);
  frame.writeUInt16BE(0x8000 | version.wire, 0);
  frame.writeUInt16BE(type, 2);
  frame.writeUInt32BE((((flags & 0xff) << 24) | payloadBytes) >>> 0, 4);
  return frame;
}

export function encodeDataHeader(streamId: number, payloadBytes: number, fin: boolean): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(streamId & 0x7fff_ffff, 0);
  header.writeUInt32BE((((fin ? FLAG_FIN : 0) << 24) | payloadBytes) >>> 0, 4);
  return header;
}

export interface SynStreamFields {
  readonly streamId: number;
  readonly associatedStreamId?: number;
  /** 0 (highest) to 7 (v3) or 3 (v2). */
  readonly priority?: number;
  readonly fin?: boolean;
  readonly unidirectional?: boolean;
}

export function encodeSynStream(version: SpdyVersion, fields: SynStreamFields, headerBlock: Uint8Array): Buffer {
  const flags = (fields.fin ? FLAG_FIN : 0) | (fields.unidirectional ? FLAG_UNIDIRECTIONAL : 0);
  const frame = controlFrame(version, FrameType.SYN_STREAM, flags, 10 + headerBlock.length);
  frame.writeUInt32BE(fields.streamId & 0x7fff_ffff, 8);
  frame.writeUInt32BE((fields.associatedStreamId ?? 0) & 0x7fff_ffff, 12);
  frame[16] = ((fields.priority ?? 0) << version.priorityShift) & 0xff;
  frame[17] = 0; // unused (v2) / slot 0 (v3)
  frame.set(headerBlock, 18);
  return frame;
}

function replyLike(version: SpdyVersion, type: number, streamId: number, fin: boolean, headerBlock: Uint8Array): Buffer {
  const pad = version.replyPaddingBytes;
  const frame = controlFrame(version, type, fin ? FLAG_FIN : 0, 4 + pad + headerBlock.length);
  frame.writeUInt32BE(streamId & 0x7fff_ffff, 8);
  if (pad !== 0) frame.writeUInt16BE(0, 12);
  frame.set(headerBlock, 12 + pad);
  return frame;
}

export function encodeSynReply(version: SpdyVersion, streamId: number, fin: boolean, headerBlock: Uint8Array): Buffer {
  return replyLike(version, FrameType.SYN_REPLY, streamId, fin, headerBlock);
}

export function encodeHeaders(version: SpdyVersion, streamId: number, fin: boolean, headerBlock: Uint8Array): Buffer {
  return replyLike(version, FrameType.HEADERS, streamId, fin, headerBlock);
}

/** An RST_STREAM frame's size, header and payload. */
export const RST_STREAM_BYTES = FRAME_HEADER_BYTES + 8;

export function encodeRstStream(version: SpdyVersion, streamId: number, status: number): Buffer {
  const frame = Buffer.allocUnsafe(RST_STREAM_BYTES);
  writeRstStream(version, frame, 0, streamId, status);
  return frame;
}

/** Writes an RST_STREAM frame into `target` at `at` (RST_STREAM_BYTES of it): a flood of them goes out without a Buffer each. */
export function writeRstStream(version: SpdyVersion, target: Buffer, at: number, streamId: number, status: number): void {
  target.writeUInt16BE(0x8000 | version.wire, at);
  target.writeUInt16BE(FrameType.RST_STREAM, at + 2);
  target.writeUInt32BE(8, at + 4);
  target.writeUInt32BE(streamId & 0x7fff_ffff, at + 8);
  target.writeUInt32BE(status, at + 12);
}

export function encodeSettings(version: SpdyVersion, entries: readonly SettingsEntry[], clearSettings = false): Buffer {
  const frame = controlFrame(version, FrameType.SETTINGS, clearSettings ? 1 : 0, 4 + 8 * entries.length);
  frame.writeUInt32BE(entries.length, 8);
  let o = 12;
  for (const { id, flags, value } of entries) {
    if (version.settingsIdLittleEndian) {
      // v2: `id(24, little-endian) | flags(8)` (docs/spdy-protocol.md §3.4).
      frame.writeUInt32LE((((flags & 0xff) << 24) | (id & 0xff_ffff)) >>> 0, o);
    } else {
      frame.writeUInt32BE((((flags & 0xff) << 24) | (id & 0xff_ffff)) >>> 0, o);
    }
    frame.writeUInt32BE(value >>> 0, o + 4);
    o += 8;
  }
  return frame;
}

export function encodeNoop(version: SpdyVersion): Buffer {
  return controlFrame(version, FrameType.NOOP, 0, 0);
}

export function encodePing(version: SpdyVersion, id: number): Buffer {
  const frame = controlFrame(version, FrameType.PING, 0, 4);
  frame.writeUInt32BE(id >>> 0, 8);
  return frame;
}

export function encodeGoaway(version: SpdyVersion, lastGoodStreamId: number, status: number): Buffer {
  const frame = controlFrame(version, FrameType.GOAWAY, 0, version.goawayBytes);
  frame.writeUInt32BE(lastGoodStreamId & 0x7fff_ffff, 8);
  if (version.goawayBytes === 8) frame.writeUInt32BE(status, 12);
  return frame;
}

export function encodeWindowUpdate(version: SpdyVersion, streamId: number, delta: number): Buffer {
  const frame = controlFrame(version, FrameType.WINDOW_UPDATE, 0, 8);
  frame.writeUInt32BE(streamId & 0x7fff_ffff, 8);
  frame.writeUInt32BE(delta & 0x7fff_ffff, 12);
  return frame;
}
