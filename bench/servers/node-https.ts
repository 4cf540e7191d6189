// The bare node:https peer of scenario 3: the benchmark's hello handler, nothing else.
// Usage: node bench/servers/node-https.ts CERT KEY [PORT]; prints "listening PORT" on stdout.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { hello } from '../apps/hello.ts';

const [certPath, keyPath, portText = '0'] = process.argv.slice(2);
const server = createServer({ cert: readFileSync(certPath), key: readFileSync(keyPath) }, hello);
// node:https closes keep-alive connections idle for 5 s: the load generator never idles that long.
server.listen(Number(portText), '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.stdout.write(`listening ${address.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
