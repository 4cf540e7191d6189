// The load generator's ceiling in scenario 6: a plain HTTP/1.1 server that answers every request
// head (up to its blank line) with the same canned response, no parsing, no app. What h2load
// reaches here bounds every other row of the scenario on this machine.
// Usage: node bench/servers/canned-http.ts; prints "listening PORT".

import { createServer } from 'node:net';

const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\nHello, world!\n');
const server = createServer((socket) => {
  socket.setNoDelay(true);
  let tail = '';
  socket.on('data', (chunk: Buffer) => {
    const text = tail + chunk.toString('latin1');
    let count = 0;
    let at = text.indexOf('\r\n\r\n');
    let last = 0;
    while (at >= 0) {
      count++;
      last = at + 4;
      at = text.indexOf('\r\n\r\n', last);
    }
    tail = text.slice(last);
    if (count === 1) socket.write(RESPONSE);
    else if (count > 1) socket.write(Buffer.concat(Array.from({ length: count }, () => RESPONSE)));
  });
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.stdout.write(`listening ${address.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
