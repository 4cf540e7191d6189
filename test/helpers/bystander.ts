// A well-behaved client on a connection of its own, for the abuse tests: while one peer
// misbehaves, another must still be served in full.

import assert from 'node:assert/strict';
import { connectClient, type ProtocolName } from './protocol-clients.ts';

/** How long the bystander's request may take before the test fails (a bound on a hang, not a timing check). */
const BYSTANDER_WAIT_MS = 5000;

/** GETs /status/200 on a fresh connection and checks the whole answer arrived. */
export async function assertBystanderServed(port: number, protocol: ProtocolName): Promise<void> {
  const client = await connectClient(protocol, { host: '127.0.0.1', port });
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the well-behaved ${protocol} client was not served within ${BYSTANDER_WAIT_MS} ms`)), BYSTANDER_WAIT_MS);
    });
    const response = await Promise.race([client.request({ path: '/headers.json' }), timeout]);
    assert.equal(response.status, 200, 'the well-behaved client got its answer');
    assert.ok(response.body.length > 0, 'with its body');
  } finally {
    clearTimeout(timer);
    await client.close();
  }
}
