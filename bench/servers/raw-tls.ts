// The ceiling of scenario 4: raw TLS between two Node processes, no protocol on top. A client
// opens with one byte, `U` (it will upload) or `D` (it wants a download), and a 64-bit byte
// count. For `U` the server reads that many bytes and answers one byte; for `D` it writes that
// many bytes in 64 KiB pieces, honouring backpressure, as bench/apps/hello.cjs does.
// Usage: node bench/servers/raw-tls.ts CERT KEY [PORT]; prints "listening PORT" on stdout.

import { readFileSync } from 'node:fs';
import { createServer, type TLSSocket } from 'node:tls';

const REQUEST_BYTES = 9;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

function serve(socket: TLSSocket): void {
  socket.on('error', () => socket.destroy());
  let head = Buffer.alloc(0);
  let uploadLeft = -1;
  socket.on('data', (chunk: Buffer) => {
    if (uploadLeft >= 0) {
      uploadLeft -= chunk.length;
      if (uploadLeft <= 0) socket.end(Buffer.from('k'));
      return;
    }
    head = Buffer.concat([head, chunk]);
    if (head.length < REQUEST_BYTES) return;
    const total = Number(head.readBigUInt64BE(1));
    if (head[0] === 0x55 /* U */) {
      uploadLeft = total - (head.length - REQUEST_BYTES);
      if (uploadLeft <= 0) socket.end(Buffer.from('k'));
    } else {
      download(socket, total);
    }
  });
}

function download(socket: TLSSocket, total: number): void {
  let left = total;
  const pump = (): void => {
    while (left > 0) {
      const piece = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= piece.length;
      if (!socket.write(piece)) {
        socket.once('drain', pump);
        return;
      }
    }
    socket.end();
  };
  pump();
}

const [certPath, keyPath, portText = '0'] = process.argv.slice(2);
const server = createServer({ cert: readFileSync(certPath), key: readFileSync(keyPath) }, serve);
server.listen(Number(portText), '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.stdout.write(`listening ${address.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
