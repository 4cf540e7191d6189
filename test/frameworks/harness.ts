// Runs a framework's app, unchanged, behind one spry TLS listener, and defines the same tests
// once per protocol (h2, spdy/3.1, spdy/3, spdy/2, http/1.1), each with its own client.

import { after, before, describe } from 'node:test';
import { connectClient, PROTOCOLS, type ProtocolClient, type ProtocolName } from '../helpers/protocol-clients.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/**
 * `defineTests` is called once per protocol while the suite is defined; the tests it defines
 * reach that protocol's client through `client()` when they run.
 */
export function onEveryProtocol(title: string, app: object, defineTests: (client: () => ProtocolClient, protocol: ProtocolName) => void): void {
  describe(title, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ app });
    });
    after(() => server.close());

    for (const protocol of PROTOCOLS) {
      describe(protocol, () => {
        let client: ProtocolClient | undefined;
        before(async () => {
          client = await connectClient(protocol, { host: '127.0.0.1', port: server.port });
        });
        after(() => client?.close());
        defineTests(() => client!, protocol);
      });
    }
  });
}

/** A JSON request body with its content-type. */
export function jsonBody(value: unknown): { headers: [string, string][]; body: Buffer } {
  const body = Buffer.from(JSON.stringify(value));
  return { headers: [['content-type', 'application/json'], ['content-length', String(body.length)]], body };
}
