// The one request handler every server in the benchmark runs: spry (through hello.ts), the bare
// node:http2 and node:https servers, and node-spdy under Node 20. CommonJS so that Node 20 can
// load it too; one file, so "the same handler" is literally the same code.
//
//   GET  /                 "Hello, world!\n" (text/plain, with Content-Length)
//   POST /upload           reads the whole body, answers its byte count
//   GET  /download?n=N     streams N bytes (64 KiB writes, honouring backpressure)
'use strict';

const BODY = Buffer.from('Hello, world!\n');
const CHUNK = Buffer.alloc(64 * 1024, 0x61);
const MAX_DOWNLOAD_BYTES = 4 * 1024 ** 3;

function hello(req, res) {
  const url = req.url || '/';
  if (url === '/') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
    res.end(BODY);
    return;
  }
  if (url.startsWith('/upload')) {
    let received = 0;
    req.on('data', (chunk) => {
      received += chunk.length;
    });
    req.on('end', () => {
      const text = `${received}\n`;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
    return;
  }
  if (url.startsWith('/download')) {
    const match = /[?&]n=(\d+)/.exec(url);
    const total = match === null ? 0 : Math.min(Number(match[1]), MAX_DOWNLOAD_BYTES);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
    let left = total;
    const pump = () => {
      while (left > 0) {
        const piece = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
        left -= piece.length;
        if (!res.write(piece)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 10 });
  res.end('not found\n');
}

module.exports = { hello };
