// A TCP port on 127.0.0.1 that nothing listens on, for a process a test starts on a port of its
// own choosing (--stats, --metrics, --socket, an occupied-port check). It is chosen below the
// kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range): a port taken from that
// range with listen(0) and freed again may be the next one the kernel hands an outgoing
// connection or another test's listen(0), and spry then failed to start with EADDRINUSE. Below
// the range only another freePort() can pick the same port: one chance in tens of thousands,
// none within one test process (ports handed out are not handed out again), and every candidate
// is bound once to see that it is free now.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Below the well-known and registered ports most services use. */
const LOWEST = 10_000;
/** Linux's default low end of the ephemeral range, where the file cannot be read. */
const DEFAULT_EPHEMERAL_LOW = 32_768;
const TRIES = 50;

const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  const high = ephemeralLow();
  for (let attempt = 0; attempt < TRIES; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (high - LOWEST));
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`freePort: no free port in ${LOWEST}-${high - 1} after ${TRIES} tries`);
}

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > LOWEST + 1_000 ? low : DEFAULT_EPHEMERAL_LOW;
  } catch {
    return DEFAULT_EPHEMERAL_LOW;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
