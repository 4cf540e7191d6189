// Scenario 8's library contender: the hello handler served by spry's createServer() from user
// code, with the same certificate, protocols and defaults as the command line.
// Usage: node bench/servers/spry-library.ts CERT KEY [PORT]; prints "listening PORT" on stdout.

import { readFileSync } from 'node:fs';
import { createServer } from '../../src/index.ts';
import { hello } from '../apps/hello.ts';

const [certPath, keyPath, portText = '0'] = process.argv.slice(2);
const server = createServer({ cert: readFileSync(certPath), key: readFileSync(keyPath) }, hello);
server.listen(Number(portText), '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.stdout.write(`listening ${address.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
