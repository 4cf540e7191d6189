// A worker: serves the app on connections its master accepted and handed over. It binds
// nothing and runs with whatever privileges the master left it.

import { isCacheNotice, type CacheRequest } from '../cache/cache-messages.ts';
import { applyCacheNotice, cacheMasterGone, installWorkerCaches } from '../cache/registry.ts';
import type { SpryConfig } from '../config/config.ts';
import { SpryError } from '../errors.ts';
import type { ConnectionHandler } from '../listen/connection-handler.ts';
import { createHandlers } from '../listen/handlers.ts';
import { ServedCertificates } from '../listen/served-certificates.ts';
import { logLine } from '../log.ts';
import { startObservation, type Observation } from '../observe/observation.ts';
import { createApp } from '../server.ts';
import { heartbeatIntervalMs } from './harakiri-watchdog.ts';
import { isMasterMessage, type WorkerMessage } from './messages.ts';
import { tellTaken } from './taken-connections.ts';
import type { Socket } from 'node:net';

export function runWorker(): void {
  const send = (message: WorkerMessage) => process.send?.(message);
  let handlers: ConnectionHandler[] | undefined;
  let observation: Observation | undefined;
  let certificates: ServedCertificates | undefined;
  let draining = false;
  let leaving = false;
  process.on('message', (message: unknown, socket?: Socket) => {
    if (!isMasterMessage(message)) return;
    if (isCacheNotice(message)) return applyCacheNotice(message);
    switch (message.type) {
      case 'start':
        // Before the app loads, so that it can read the caches at import time.
        installWorkerCaches(message.config.caches, message.caches, sendCacheRequest);
        observation = startObservation(message.config.observe, message.workerId);
        certificates = new ServedCertificates(message.config);
        void start(message.config, observation, certificates).then(
          (ready) => {
            handlers = ready;
            send({ type: 'ready' });
            startHeartbeat(message.config, send);
          },
          (error: unknown) => {
            const code = error instanceof SpryError ? error.code : 'SPRY_ERR_APP_LOAD';
            send({ type: 'fatal', message: error instanceof Error ? error.message : String(error), code });
            leaving = true; // the disconnect below is ours, not a lost master
            process.exitCode = 2;
            process.disconnect?.();
          },
        );
        return;
      case 'connection':
        if (socket === undefined) return;
        // Our copy goes either way; the master keeps its own until it reads our answer.
        if (handlers === undefined || draining) {
          socket.destroy();
          send({ type: 'declined', id: message.id });
          return;
        }
        // Before a byte is read: once the master knows, it closes its copy, and a connection we
        // die with is not given to another worker, which could not continue it.
        try {
          tellTaken(message.id);
        } catch {
          return void socket.destroy(); // the master is gone; so are we, soon
        }
        handlers[message.listener]?.accept(socket);
        return;
      case 'certificates':
        certificates?.apply(message.certificates);
        return;
      case 'stats-request':
        if (observation !== undefined) send({ type: 'stats', id: message.id, snapshot: observation.snapshot() });
        return;
      case 'drain':
        draining = true;
        void Promise.all((handlers ?? []).map((handler) => handler.drain(message.graceMs))).then(() => process.exit(0));
        return;
    }
  });
  // The master is gone: nobody will hand us connections or tell us to stop.
  process.on('disconnect', () => {
    cacheMasterGone();
    if (!draining && !leaving) {
      logLine(`worker ${process.pid}: lost its master; exiting`);
      process.exit(1);
    }
  });
  // Signals are the master's business (a terminal's ^C reaches the whole process group).
  process.on('SIGINT', () => {});
  process.on('SIGHUP', () => {});
}

/** Cache writes and read batches go to the master; one that cannot be sent fails its write. */
function sendCacheRequest(request: CacheRequest, onError: (error: Error) => void): void {
  if (process.send === undefined || !process.connected) return onError(new Error('the IPC channel is closed'));
  process.send(request, undefined, undefined, (error: Error | null) => {
    if (error !== null) onError(error);
  });
}

/** --harakiri: a beat from a timer tells the master the event loop still turns. */
function startHeartbeat(config: SpryConfig, send: (message: WorkerMessage) => void): void {
  const harakiriMs = config.edge?.harakiriMs;
  if (harakiriMs === undefined) return;
  setInterval(() => send({ type: 'heartbeat' }), heartbeatIntervalMs(harakiriMs)).unref();
}

async function start(config: SpryConfig, observation: Observation, certificates: ServedCertificates): Promise<ConnectionHandler[]> {
  return createHandlers(config, await createApp(config, observation), certificates, observation.wrap);
}
