// Scenario 11's WebSocket server: `ws` on a bare node:http server, echoing every message as it
// came (text or binary). Plain ws://: spry's side of the comparison forwards to it.
// Usage: node bench/servers/ws-echo.ts CERT KEY [PORT] (the certificate is unused); prints "listening PORT".

import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const portText = process.argv[4] ?? '0';
const server = createServer((_req, res) => res.end('ws echo\n'));
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
server.listen(Number(portText), '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.stdout.write(`listening ${address.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
