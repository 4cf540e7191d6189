// Scenario 6's HTTP backend: the benchmark's hello handler on plain HTTP/1.1 (keep-alive), on a
// loopback port or a unix socket. Usage: node bench/servers/node-http.ts PORT|PATH; prints
// "listening PORT|PATH" on stdout.

import { createServer } from 'node:http';
import { hello } from '../apps/hello.ts';

const [where = '0'] = process.argv.slice(2);
const server = createServer({ keepAliveTimeout: 60_000 }, hello);
const listening = (): void => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'string' ? address : address?.port}\n`);
};
if (where.includes('/')) server.listen(where, listening);
else server.listen(Number(where), '127.0.0.1', listening);
process.on('SIGTERM', () => process.exit(0));
