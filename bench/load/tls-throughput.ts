// The client half of scenario 4's ceiling (see bench/servers/raw-tls.ts): moves N bytes over one
// TLS connection in one direction and prints {"bytes", "seconds", "bytesPerSecond"} as JSON.
// Usage: node bench/load/tls-throughput.ts upload|download BYTES https://127.0.0.1:PORT/

import { connect } from 'node:tls';

const CHUNK_BYTES = 64 * 1024;
const TIMEOUT_MS = 5 * 60_000;

function transfer(direction: 'upload' | 'download', total: number, port: number, host: string): Promise<number> {
  // One buffer, written as views (the no-copy writes spdy-load makes), filled before the clock starts.
  const body = direction === 'upload' ? Buffer.alloc(total, 0x62) : Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`tls-throughput: no end within ${TIMEOUT_MS} ms`));
    }, TIMEOUT_MS);
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('secureConnect', () => {
      const request = Buffer.alloc(9);
      request[0] = direction === 'upload' ? 0x55 : 0x44;
      request.writeBigUInt64BE(BigInt(total), 1);
      const started = performance.now();
      let received = 0;
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
      });
      socket.on('end', () => {
        clearTimeout(timer);
        const seconds = (performance.now() - started) / 1000;
        if (direction === 'download' && received !== total) reject(new Error(`tls-throughput: got ${received} of ${total} bytes`));
        else resolve(seconds);
        socket.end();
      });
      socket.write(request);
      if (direction === 'download') return;
      let offset = 0;
      const pump = (): void => {
        while (offset < total) {
          const piece = body.subarray(offset, Math.min(offset + CHUNK_BYTES, total));
          offset += piece.length;
          if (!socket.write(piece)) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  });
}

const [direction, bytesText, urlText] = process.argv.slice(2);
if ((direction !== 'upload' && direction !== 'download') || !(Number(bytesText) > 0) || urlText === undefined) {
  process.stderr.write('usage: tls-throughput.ts upload|download BYTES https://127.0.0.1:PORT/\n');
  process.exit(2);
}
const url = new URL(urlText);
const bytes = Number(bytesText);
const seconds = await transfer(direction, bytes, Number(url.port), url.hostname);
process.stdout.write(`${JSON.stringify({ bytes, seconds, bytesPerSecond: bytes / seconds })}\n`);
