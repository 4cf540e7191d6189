// A trivially cheap SPDY/3 and /3.1 server, to show the load generator's own ceiling: it reads
// only frame headers, and answers every SYN_STREAM with the same precomputed SYN_REPLY and DATA
// frames ("Hello, world!\n"), its stream id patched in. No zlib runs: the reply header blocks
// are deflate *stored* blocks (BTYPE 00), which reference no history, so the same bytes are a
// valid continuation of the compressed stream every time (RFC 1951 §3.2.4); the first one on a
// connection is preceded by a zlib header that names no dictionary (RFC 1950 §2.2). Request
// header blocks are never inflated: nothing here reads them.
// Usage: node bench/servers/canned-spdy.ts CERT KEY [PORT]; prints "listening PORT" on stdout.

import { readFileSync } from 'node:fs';
import { createServer, type TLSSocket } from 'node:tls';

const SYN_STREAM = 1;
const FRAME_HEADER_BYTES = 8;
const BODY = Buffer.from('Hello, world!\n');

/** A v3 name/value block: 32-bit count and lengths (SPDY/3 §2.6.10). */
function nameValueBlock(pairs: readonly [string, string][]): Buffer {
  const parts: Buffer[] = [u32(pairs.length)];
  for (const [name, value] of pairs) parts.push(u32(name.length), Buffer.from(name, 'latin1'), u32(value.length), Buffer.from(value, 'latin1'));
  return Buffer.concat(parts);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** One non-final stored deflate block holding `data` (at most 65535 bytes). */
function storedBlock(data: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header[0] = 0x00; // BFINAL 0, BTYPE 00, then padding to the byte boundary
  header.writeUInt16LE(data.length, 1);
  header.writeUInt16LE(~data.length & 0xffff, 3);
  return Buffer.concat([header, data]);
}

/** SYN_REPLY (v3: control bit, version 3, type 2) then DATA with FIN, stream id 0 for now. */
function replyTemplate(compressedBlock: Buffer): Buffer {
  const synReply = Buffer.alloc(FRAME_HEADER_BYTES + 4);
  synReply.writeUInt32BE(0x8003_0002, 0);
  synReply.writeUInt32BE(4 + compressedBlock.length, 4); // flags 0, 24-bit length
  const dataHeader = Buffer.alloc(FRAME_HEADER_BYTES);
  dataHeader.writeUInt32BE(0x0100_0000 | BODY.length, 4); // FLAG_FIN, length
  return Buffer.concat([synReply, compressedBlock, dataHeader, BODY]);
}

const block = nameValueBlock([
  [':status', '200'],
  [':version', 'HTTP/1.1'],
  ['content-type', 'text/plain'],
  ['content-length', String(BODY.length)],
]);
const ZLIB_HEADER_NO_DICTIONARY = Buffer.from([0x78, 0x01]);
const FIRST_REPLY = replyTemplate(Buffer.concat([ZLIB_HEADER_NO_DICTIONARY, storedBlock(block)]));
const NEXT_REPLY = replyTemplate(storedBlock(block));
/** Where the DATA frame's stream id sits in a reply. */
const dataOffset = (reply: Buffer): number => reply.length - BODY.length - FRAME_HEADER_BYTES;

function writeReply(socket: TLSSocket, template: Buffer, streamId: number): void {
  const reply = Buffer.from(template);
  reply.writeUInt32BE(streamId, FRAME_HEADER_BYTES);
  reply.writeUInt32BE(streamId, dataOffset(template));
  socket.write(reply);
}

function serve(socket: TLSSocket): void {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  let pending: Buffer | null = null;
  /** Payload bytes of the current frame still to drop. */
  let toSkip = 0;
  let first = true;
  socket.on('data', (chunk: Buffer) => {
    const bytes = pending === null ? chunk : Buffer.concat([pending, chunk]);
    let offset = 0;
    socket.cork();
    for (;;) {
      if (toSkip > 0) {
        const dropped = Math.min(toSkip, bytes.length - offset);
        toSkip -= dropped;
        offset += dropped;
        if (toSkip > 0) break;
      }
      if (bytes.length - offset < FRAME_HEADER_BYTES) break;
      const isSynStream = (bytes[offset] & 0x80) !== 0 && bytes.readUInt16BE(offset + 2) === SYN_STREAM;
      if (isSynStream) {
        if (bytes.length - offset < FRAME_HEADER_BYTES + 4) break;
        writeReply(socket, first ? FIRST_REPLY : NEXT_REPLY, bytes.readUInt32BE(offset + FRAME_HEADER_BYTES) & 0x7fff_ffff);
        first = false;
      }
      toSkip = bytes.readUIntBE(offset + 5, 3);
      offset += FRAME_HEADER_BYTES;
    }
    socket.uncork();
    pending = offset < bytes.length ? Buffer.from(bytes.subarray(offset)) : null;
  });
}

const [certPath, keyPath, portText = '0'] = process.argv.slice(2);
const server = createServer({ cert: readFileSync(certPath), key: readFileSync(keyPath), ALPNProtocols: ['spdy/3.1', 'spdy/3'] }, serve);
server.listen(Number(portText), '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.stdout.write(`listening ${address.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
