// The bare node:http2 peer of scenario 2: a secure HTTP/2 server (ALPN h2) with the benchmark's
// hello handler through Node's compatibility API, nothing else.
// Usage: node bench/servers/node-http2.ts CERT KEY [PORT]; prints "listening PORT" on stdout.

import { readFileSync } from 'node:fs';
import { createSecureServer } from 'node:http2';
import { hello } from '../apps/hello.ts';

const [certPath, keyPath, portText = '0'] = process.argv.slice(2);
const server = createSecureServer({ cert: readFileSync(certPath), key: readFileSync(keyPath) }, hello as never);
server.listen(Number(portText), '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.stdout.write(`listening ${address.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
