// Scenario 6's bare Node HTTP proxy, the peer of `spry --http-to http://…`: node:http's server,
// and per request one `http.request` to the backend through a keep-alive agent, the request body
// and the response piped through. Nothing else: no header rewriting, no retries, no timeouts.
// Usage: node bench/servers/node-http-proxy.ts BACKEND_PORT; prints "listening PORT".

import { Agent, createServer, request } from 'node:http';

const backendPort = Number(process.argv[2]);
const agent = new Agent({ keepAlive: true, maxFreeSockets: 64 });
const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const forwarded = request({ host: '127.0.0.1', port: backendPort, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  forwarded.on('error', () => res.destroy());
  req.pipe(forwarded);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.stdout.write(`listening ${address.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
