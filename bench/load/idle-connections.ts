// The client of scenario 5: opens N SPDY connections (at most `parallel` handshakes at a time),
// sends one GET on each, and then keeps them all open and idle, so the server's resident
// memory per idle connection can be read. Talks to the runner over stdin/stdout, one JSON line
// per message:
//   → {"opened": N, "failed": F, "seconds": S}   once every connection has had its request
//   ← "count"  → {"open": K}                    how many are still open (the server may close some)
//   ← "close" (or stdin ends)                     closes everything and exits
// Usage: node bench/load/idle-connections.ts -n 10000 [--parallel 200] [-p spdy/3.1] https://127.0.0.1:PORT/

import { createInterface } from 'node:readline';
import { createSecureContext } from 'node:tls';
import { parseArgs } from 'node:util';
import { SpdyClient } from '../../src/spdy/client.ts';
import type { SpdyAlpn } from '../../src/spdy/versions.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    connections: { type: 'string', short: 'n', default: '1000' },
    parallel: { type: 'string', default: '200' },
    protocol: { type: 'string', short: 'p', default: 'spdy/3.1' },
  },
});
const url = new URL(positionals[0] ?? 'https://127.0.0.1:8443/');
const total = Number(values.connections);
const parallel = Number(values.parallel);
const protocol = values.protocol as SpdyAlpn;
const clients: SpdyClient[] = [];
// One context for every connection: tls.connect() would otherwise build one per connection.
const secureContext = createSecureContext();
let failed = 0;
let firstError: string | undefined;

async function openOne(): Promise<void> {
  try {
    const client = await SpdyClient.connect({ host: url.hostname, port: Number(url.port), protocol, tls: { secureContext } });
    clients.push(client);
    const response = await client.request(url.pathname);
    if (response.status !== 200) throw new Error(`status ${response.status}`);
  } catch (error) {
    failed++;
    firstError ??= error instanceof Error ? error.message : String(error);
  }
}

const started = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: Math.min(parallel, total) }, async () => {
    while (next < total) {
      next++;
      await openOne();
    }
  }),
);
const open = (): number => clients.filter((client) => !client.session.destroyed && !client.session.goawayReceived).length;
const say = (message: object): void => {
  process.stdout.write(`${JSON.stringify(message)}\n`);
};
say({ opened: open(), failed, seconds: (performance.now() - started) / 1000, ...(firstError === undefined ? {} : { firstError }) });

const finish = (): void => {
  for (const client of clients) client.session.destroy();
  process.exit(0);
};
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === 'count') say({ open: open() });
  else if (line.trim() === 'close') finish();
});
lines.on('close', finish);
process.on('SIGTERM', finish);
