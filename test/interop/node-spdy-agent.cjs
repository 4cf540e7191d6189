// Runs the `spdy` npm package's client (its Agent, over node:https) against a spry server and
// prints what it saw as JSON. A separate process because node-spdy needs Node < 22 (it uses
// process.binding('http_parser'), which Node 22 removed).
// Usage: node node-spdy-agent.cjs PORT PROTOCOL
'use strict';
const https = require('node:https');
const spdy = require('spdy');

const [port, protocol] = [Number(process.argv[2]), process.argv[3]];
const agent = spdy.createAgent({ host: '127.0.0.1', port, rejectUnauthorized: false, spdy: { protocols: [protocol], plain: false } });

function request(method, path) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method, path, agent, rejectUnauthorized: false, }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

(async () => {
  // Only GETs: a request body through node-spdy's Agent stalls at random on Node 20 (its http
  // shim never ends the stream; docs/spdy-protocol.md §16 lists the family). Uploads are checked with
  // spdy-transport directly, in node-spdy.test.ts.
  const environ = await request('GET', '/environ.json');
  const download = await request('GET', '/bytes?n=2000000');
  let patternOk = download.body.length === 2_000_000;
  for (let i = 0; patternOk && i < download.body.length; i++) patternOk = download.body[i] === i % 251;
  process.stdout.write(JSON.stringify({
    environ: { status: environ.status, body: JSON.parse(environ.body.toString()) },
    download: { status: download.status, bytes: download.body.length, patternOk },
  }));
  agent.close();
  // node-spdy keeps its socket referenced after close(): exit once stdout has been flushed.
  process.stdout.write('\n', () => process.exit(0));
})().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
