// Scenario 6's floor of floors: no HTTP at all, only what a router does with a uwsgi backend per
// request — connect, write a vars block, read the response to the end, close — CONCURRENCY at a
// time, REQUESTS in all, and this process's own CPU per request (process.cpuUsage). `net` uses
// net.connect; `handle` the bare handle spry uses (src/internals/stream-handles.ts).
// Usage: node bench/load/uwsgi-connect-loop.ts net|handle HOST:PORT|PATH [REQUESTS] [CONCURRENCY]
// prints one JSON line: { mode, requests, userMicros, systemMicros, requestsPerSecond }.

import { connect } from 'node:net';
import { HandleConnection, type HandleTarget } from '../../src/internals/stream-handles.ts';
import { encodeUwsgiRequest } from '../../src/uwsgi/packet.ts';

const [mode, target, requestsText = '20000', concurrencyText = '50'] = process.argv.slice(2);
const requests = Number(requestsText);
const concurrency = Number(concurrencyText);
const colon = target.lastIndexOf(':');
const where: HandleTarget = target.includes('/') ? { path: target } : { host: target.slice(0, colon), port: Number(target.slice(colon + 1)) };

const PACKET = encodeUwsgiRequest({ REQUEST_METHOD: 'GET', PATH_INFO: '/', QUERY_STRING: '', SERVER_PROTOCOL: 'HTTP/1.1', SERVER_NAME: '127.0.0.1', SERVER_PORT: '80', REMOTE_ADDR: '127.0.0.1', HTTP_HOST: '127.0.0.1' });

let started = 0;
let finished = 0;
const cpuBefore = process.cpuUsage();
const wallBefore = performance.now();

function fail(error: Error): never {
  process.stderr.write(`uwsgi-connect-loop: ${error.message}\n`);
  process.exit(1);
}

function next(): void {
  if (started === requests) return;
  started++;
  if (mode === 'net') {
    const socket = 'path' in where ? connect(where.path) : connect(where.port, where.host);
    socket.on('connect', () => socket.write(PACKET));
    socket.on('data', () => {});
    socket.on('end', () => {
      socket.destroy();
      done();
    });
    socket.on('error', fail);
    return;
  }
  const connection: HandleConnection = new HandleConnection(where, {
    connected: () => connection.write(PACKET),
    received: () => {},
    ended: () => {
      connection.destroy();
      done();
    },
    failed: fail,
    drained: () => {},
  }, false);
}

function done(): void {
  finished++;
  if (finished < requests) return next();
  const cpu = process.cpuUsage(cpuBefore);
  const seconds = (performance.now() - wallBefore) / 1000;
  process.stdout.write(`${JSON.stringify({ mode, requests, userMicros: cpu.user / requests, systemMicros: cpu.system / requests, requestsPerSecond: requests / seconds })}\n`);
}

for (let i = 0; i < concurrency; i++) next();
