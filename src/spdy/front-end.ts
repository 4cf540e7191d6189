// The SPDY front end for one version: one SpdySession per connection; each request stream goes
// to the app.

import type { Socket } from 'node:net';
import type { App } from '../apps/app.ts';
import type { StreamTuning } from '../config/config.ts';
import type { ConnectionInfo } from '../exchange/connection-info.ts';
import type { FrontEnd } from '../listen/front-end.ts';
import type { PushPlanner } from '../push/push-planner.ts';
import { tracer } from '../log.ts';
import { SpdyServerSession } from './server-session.ts';
import type { SpdyVersion } from './versions.ts';
import { countProtocolError } from '../observe/counters.ts';

const trace = tracer('spdy');
/**
 * How often idle sessions are asked to give back their buffers (idle: a whole period without
 * traffic). Short, because what a connection frees stays in the process's resident memory as
 * long as enough other connections still hold theirs: with 10,000 connections that each made
 * one request, a 1 s period left 71 KiB resident per connection and a 5 s one 94 KiB. A session
 * that wakes up pays ~40 KiB of fresh buffers and a few less-compressed header blocks.
 */
export const IDLE_SWEEP_MS = 1_000;

export interface SpdyFrontEnd extends FrontEnd {
  readonly sessions: ReadonlySet<SpdyServerSession>;
}

export function createSpdyFrontEnd(
  app: App,
  version: SpdyVersion,
  options: { tuning: StreamTuning; idleTimeoutMs: number; pushPlanner?: PushPlanner },
): SpdyFrontEnd {
  const sessions = new Set<SpdyServerSession>();
  let closing = false;
  let sweeper: NodeJS.Timeout | undefined;
  const sweep = (): void => {
    for (const session of sessions) session.releaseIdleBuffers();
  };
  return {
    sessions,
    accept(socket: Socket, connection: ConnectionInfo) {
      const session = new SpdyServerSession(socket, {
        version,
        tuning: options.tuning,
        idleTimeoutMs: options.idleTimeoutMs,
        connection,
        ...(options.pushPlanner === undefined ? {} : { pushPlanner: options.pushPlanner }),
      });
      sessions.add(session);
      if (sweeper === undefined) {
        sweeper = setInterval(sweep, IDLE_SWEEP_MS);
        sweeper.unref();
      }
      session.on('stream', (stream) => app.serve(stream));
      session.on('close', () => {
        sessions.delete(session);
        if (sessions.size === 0) {
          clearInterval(sweeper);
          sweeper = undefined;
        }
      });
      session.on('protocolError', (error) => {
        countProtocolError(version.alpn, error.code);
        trace?.(`${connection.remoteAddress}:${connection.remotePort} ${error.code}: ${error.message}`);
      });
      if (closing) session.close();
    },
    close() {
      closing = true;
      for (const session of sessions) session.close();
    },
    closeIdle() {
      for (const session of sessions) if (session.streams.size === 0) session.close();
    },
  };
}
