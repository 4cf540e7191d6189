// --stats (one JSON document per connection, then close, as uWSGI's stats server), --stats-http
// (the same document as an HTTP response) and --metrics (Prometheus text at /metrics). Each asks
// for its numbers when a client connects: a single process's own, or the master's sum of its
// workers'.

import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type Server } from 'node:net';
import { readFileSync, unlinkSync } from 'node:fs';
import type { StatsAddress } from '../config/config.ts';
import { METRICS_CONTENT_TYPE, renderMetrics } from './metrics.ts';
import { statsDocument, type StatsSnapshot } from './stats.ts';

export type SnapshotSource = () => Promise<StatsSnapshot>;

export interface StatsServers {
  close(): Promise<void>;
}

export async function startStatsServers(options: { stats?: StatsAddress; statsHttp: boolean; metrics?: StatsAddress }, source: SnapshotSource): Promise<StatsServers | undefined> {
  if (options.stats === undefined && options.metrics === undefined) return undefined;
  const version = spryVersion();
  const servers: Server[] = [];
  const document = async (): Promise<string> => `${JSON.stringify(statsDocument(await source(), version), null, 1)}\n`;
  try {
    if (options.stats !== undefined) {
      const server = options.statsHttp
        ? createHttpServer((_req, res) => {
            void document().then((body) => {
              res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
              res.end(body);
            }, () => res.writeHead(500).end());
          })
        : createNetServer((socket) => {
            socket.on('error', () => {});
            void document().then((body) => socket.end(body), () => socket.destroy());
          });
      servers.push(await listen(server, options.stats));
    }
    if (options.metrics !== undefined) {
      const server = createHttpServer((req, res) => {
        if (req.url?.split('?')[0] !== '/metrics') {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are at /metrics\n');
          return;
        }
        void source().then((snapshot) => {
          const body = renderMetrics(snapshot);
          res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
          res.end(body);
        }, () => res.writeHead(500).end());
      });
      servers.push(await listen(server, options.metrics));
    }
  } catch (error) {
    for (const server of servers) server.close();
    throw error;
  }
  return {
    async close() {
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      })));
      for (const address of [options.stats, options.metrics]) if (address?.kind === 'unix') removeSocket(address.path);
    },
  };
}

function listen<T extends Server>(server: T, address: StatsAddress): Promise<T> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve(server);
    };
    if (address.kind === 'unix') {
      removeSocket(address.path);
      server.listen(address.path, done);
    } else server.listen(address.port, address.host, done);
  });
}

function removeSocket(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // not there
  }
}

/** The package's version, through its own `./package.json` export (checkout and dist alike). */
function spryVersion(): string {
  try {
    const parsed = JSON.parse(readFileSync(new URL(import.meta.resolve('spry/package.json')), 'utf8')) as { version?: unknown };
    return typeof parsed.version === 'string' ? parsed.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
