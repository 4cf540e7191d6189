// Micro benchmarks of the SPDY codec's hot functions: FrameDecoder per frame type, header
// block encode/decode, and header compression (HeaderDeflater/HeaderInflater) in the steady
// state of a session and at session start.

import { DEFAULTS } from '../../src/config/config.ts';
import { HeaderDeflater, HeaderInflater } from '../../src/spdy/compression.ts';
import { FrameDecoder } from '../../src/spdy/frame-decoder.ts';
import {
  encodeDataHeader,
  encodeGoaway,
  encodeHeaders,
  encodePing,
  encodeRstStream,
  encodeSettings,
  encodeSynReply,
  encodeSynStream,
  encodeWindowUpdate,
} from '../../src/spdy/frame-encoder.ts';
import type { FrameSink } from '../../src/spdy/frames.ts';
import { decodeHeaderBlock, encodeHeaderBlock } from '../../src/spdy/header-block.ts';
import { replyHeaders } from '../../src/spdy/request-head.ts';
import { SPDY_VERSIONS } from '../../src/spdy/versions.ts';
import type { MicroCase } from './harness.ts';

const v31 = SPDY_VERSIONS['spdy/3.1'];
const FRAMES_PER_CALL = 1000;

/** A browser-like GET: what a SYN_STREAM carries. */
export const REQUEST_HEADERS = [
  ':method', 'GET',
  ':path', '/assets/app.js?v=3',
  ':version', 'HTTP/1.1',
  ':host', 'www.example.com',
  ':scheme', 'https',
  'accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'accept-encoding', 'gzip, deflate, br',
  'accept-language', 'en-GB,en;q=0.9',
  'cookie', 'session=4f1c2e9a7b3d; theme=dark; consent=yes',
  'user-agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
];

/** What the hello app's SYN_REPLY carries. */
export const RESPONSE_HEADERS = replyHeaders(v31, 200, ['content-type', 'text/plain', 'content-length', '14', 'date', 'Fri, 27 Nov 2026 07:00:00 GMT']);

let frames = 0;
const countingSink: FrameSink = {
  onControlFrame: () => {
    frames++;
  },
  onData: () => {
    frames++;
  },
  onProtocolError: (error) => {
    throw error;
  },
};

function repeated(frame: Buffer, times: number): Buffer {
  return Buffer.concat(Array.from({ length: times }, () => frame));
}

function decodeCase(name: string, frame: Buffer, payloadBytes = 0): MicroCase {
  const input = repeated(frame, FRAMES_PER_CALL);
  const decoder = new FrameDecoder(v31, countingSink, { maxControlFrameBytes: DEFAULTS.tuning.maxControlFrameBytes });
  return {
    name: `FrameDecoder.push: ${name}`,
    fn: () => {
      decoder.push(input);
      return frames;
    },
    opsPerCall: FRAMES_PER_CALL,
    ...(payloadBytes > 0 ? { bytesPerCall: payloadBytes * FRAMES_PER_CALL } : {}),
  };
}

export function spdyCodecCases(): MicroCase[] {
  const deflater = new HeaderDeflater(v31.dictionary);
  const requestBlock = Buffer.from(deflater.deflate(encodeHeaderBlock(v31, REQUEST_HEADERS)));
  const replyBlock = Buffer.from(deflater.deflate(encodeHeaderBlock(v31, RESPONSE_HEADERS)));
  const small = Buffer.from('Hello, world!\n');
  const big = Buffer.alloc(DEFAULTS.tuning.maxDataFrameBytes, 0x61);

  const cases: MicroCase[] = [
    decodeCase(`SYN_STREAM (${requestBlock.length}-byte header block)`, encodeSynStream(v31, { streamId: 1 }, requestBlock)),
    decodeCase(`SYN_REPLY (${replyBlock.length}-byte header block)`, encodeSynReply(v31, 1, false, replyBlock)),
    decodeCase('HEADERS', encodeHeaders(v31, 1, true, replyBlock)),
    decodeCase('RST_STREAM', encodeRstStream(v31, 1, 5)),
    decodeCase('SETTINGS (2 entries)', encodeSettings(v31, [{ id: 4, flags: 0, value: 1000 }, { id: 7, flags: 0, value: 1 << 20 }])),
    decodeCase('PING', encodePing(v31, 1)),
    decodeCase('GOAWAY', encodeGoaway(v31, 1, 0)),
    decodeCase('WINDOW_UPDATE', encodeWindowUpdate(v31, 1, 32 << 10)),
    decodeCase(`DATA (${small.length} bytes)`, Buffer.concat([encodeDataHeader(1, small.length, true), small]), small.length),
    decodeCase(`DATA (${big.length} bytes)`, Buffer.concat([encodeDataHeader(1, big.length, false), big]), big.length),
  ];

  // Header blocks, uncompressed.
  const requestPlain = encodeHeaderBlock(v31, REQUEST_HEADERS);
  const limits = { maxHeaderCount: DEFAULTS.tuning.maxHeaderCount };
  cases.push(
    { name: `encodeHeaderBlock: request (${REQUEST_HEADERS.length / 2} pairs)`, fn: () => encodeHeaderBlock(v31, REQUEST_HEADERS).length },
    { name: `encodeHeaderBlock: reply (${RESPONSE_HEADERS.length / 2} pairs)`, fn: () => encodeHeaderBlock(v31, RESPONSE_HEADERS).length },
    { name: `decodeHeaderBlock: request (${requestPlain.length} bytes)`, fn: () => decodeHeaderBlock(v31, requestPlain, 1, limits).length },
  );

  // Compression in a session's steady state: the same headers again and again, one context.
  const steadyDeflater = new HeaderDeflater(v31.dictionary);
  const replyPlain = encodeHeaderBlock(v31, RESPONSE_HEADERS);
  cases.push(
    { name: `HeaderDeflater.deflate: reply block, steady state`, fn: () => steadyDeflater.deflate(replyPlain).length },
    { name: `HeaderDeflater.deflate: request block, steady state`, fn: () => steadyDeflater.deflate(requestPlain).length },
  );
  // Inflate needs the blocks one context produced, in order: inflate a whole recorded session.
  const recorder = new HeaderDeflater(v31.dictionary);
  const sessionBlocks = Array.from({ length: FRAMES_PER_CALL }, () => Buffer.from(recorder.deflate(requestPlain)));
  recorder.close();
  cases.push({
    name: `HeaderInflater.inflate: request block, steady state`,
    fn: () => {
      const inflater = new HeaderInflater(v31.dictionary, DEFAULTS.tuning.maxHeaderBlockBytes);
      let bytes = 0;
      for (const block of sessionBlocks) bytes += inflater.inflate(block).length;
      inflater.close();
      return bytes;
    },
    opsPerCall: FRAMES_PER_CALL,
  });
  // What a server pays per request for headers: inflate + decode in, encode + deflate out.
  const pathInflater = { current: new HeaderInflater(v31.dictionary, DEFAULTS.tuning.maxHeaderBlockBytes), next: 0 };
  cases.push({
    name: 'per request: inflate+decode in, encode+deflate out',
    fn: () => {
      if (pathInflater.next === sessionBlocks.length) {
        pathInflater.current.close();
        pathInflater.current = new HeaderInflater(v31.dictionary, DEFAULTS.tuning.maxHeaderBlockBytes);
        pathInflater.next = 0;
      }
      const headers = decodeHeaderBlock(v31, pathInflater.current.inflate(sessionBlocks[pathInflater.next++]), 1, limits);
      return headers.length + steadyDeflater.deflate(encodeHeaderBlock(v31, RESPONSE_HEADERS)).length;
    },
  });
  // Session start: both contexts created and primed with the dictionary by a first block.
  cases.push({
    name: 'session start: new contexts, first block each way',
    fn: () => {
      const inflater = new HeaderInflater(v31.dictionary, DEFAULTS.tuning.maxHeaderBlockBytes);
      const fresh = new HeaderDeflater(v31.dictionary);
      const n = inflater.inflate(sessionBlocks[0]).length + fresh.deflate(replyPlain).length;
      inflater.close();
      fresh.close();
      return n;
    },
  });
  return cases;
}
