// The node-spdy peer of scenarios 1 and 5: the `spdy` npm package's server running the
// benchmark's hello handler. CommonJS for Node 20: node-spdy needs Node < 22 (it calls
// process.binding('http_parser'), which Node 22 removed).
// Usage: node20 bench/servers/node-spdy.cjs CERT KEY [PORT]; prints "listening PORT" on stdout.
'use strict';

const { readFileSync } = require('node:fs');
const spdy = require('spdy');
const { hello } = require('../apps/hello.cjs');

const [certPath, keyPath, portText = '0'] = process.argv.slice(2);
const server = spdy.createServer(
  {
    cert: readFileSync(certPath),
    key: readFileSync(keyPath),
    // SPDY only, as spry's SPDY port is measured: no h2, no HTTP/1.1 fallback.
    spdy: { protocols: ['spdy/3.1', 'spdy/3', 'spdy/2'], plain: false },
  },
  hello,
);
server.listen(Number(portText), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
