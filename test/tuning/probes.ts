// What a client can observe of the tuning knobs, shared by the tests in this folder: the SETTINGS
// a raw SPDY peer and a node:http2 client are sent on connect, and how a listener answers one
// request that is near a limit (served, RST_STREAM, or GOAWAY). Also spry started in this process
// from a command line, serving test/fixtures/tuning-app.ts.

import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { connect as http2Connect, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders, type Settings } from 'node:http2';
import { fileURLToPath } from 'node:url';
import { RawSpdyPeer, DEFAULT_WAIT_MS } from '../helpers/raw-spdy-peer.ts';
import { parseCommandLine } from '../../src/cli/options.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import type { SpdyAlpn } from '../../src/spdy/versions.ts';
import type { FlatHeaders } from '../../src/spdy/header-block.ts';

/** SPDY SETTINGS ids (SPDY/3 §2.6.4). */
export const SETTINGS_MAX_CONCURRENT_STREAMS = 4;
export const SETTINGS_INITIAL_WINDOW_SIZE = 7;
/** Every spdy/3.1 session starts with this window (SPDY/3.1 §2.6.8); the server raises it on connect. */
export const SPDY_DEFAULT_SESSION_WINDOW_BYTES = 65_536;

export interface SpdyGreeting {
  /** The first SETTINGS frame's values by id. */
  readonly settings: ReadonlyMap<number, number>;
  /** The delta of a stream-0 WINDOW_UPDATE sent before the PING echo (spdy/3.1), if any. */
  readonly sessionWindowDelta: number | undefined;
}

/** Connects, and reads what the server says before it answers anything: SETTINGS, and on 3.1 the session window. */
export async function spdyGreeting(port: number, alpn: SpdyAlpn): Promise<SpdyGreeting> {
  const peer = await RawSpdyPeer.connect(port, alpn);
  try {
    // The echo comes after everything the server queued on connect.
    peer.write(peer.ping(1));
    const echo = await peer.nextOfType('PING');
    const settings = await peer.nextOfType('SETTINGS');
    const update = peer.frames.slice(0, echo.seq).find((frame) => frame.type === 'WINDOW_UPDATE' && frame.streamId === 0);
    return {
      settings: new Map(settings.entries.map((entry) => [entry.id, entry.value])),
      sessionWindowDelta: update?.type === 'WINDOW_UPDATE' ? update.delta : undefined,
    };
  } finally {
    peer.close();
  }
}

/** `https://…` (h2 by ALPN) or `http://…` (h2c, prior knowledge). */
export async function connectH2(origin: string, settings: Settings = {}): Promise<ClientHttp2Session> {
  const session = http2Connect(origin, { rejectUnauthorized: false, settings });
  session.on('error', () => {}); // a failed connect rejects below; later errors show in the test
  await Promise.race([
    once(session, 'connect'),
    once(session, 'error').then(([error]) => Promise.reject(error as Error)),
  ]);
  return session;
}

/** The SETTINGS the server sent an h2 client on connect. */
export async function h2RemoteSettings(origin: string): Promise<Settings> {
  const session = await connectH2(origin);
  try {
    const [settings] = (await once(session, 'remoteSettings')) as [Settings];
    return settings;
  } finally {
    session.close();
  }
}

/** How a server answered a request: a status, or the stream's RST_STREAM code. */
export type Outcome = { readonly status: number } | { readonly rstCode: number } | { readonly goaway: true };

/** One h2 request with `headers` added; resolves with the status or the reset code. */
export async function h2Outcome(origin: string, path: string, headers: OutgoingHttpHeaders = {}): Promise<Outcome> {
  const session = await connectH2(origin);
  try {
    return await new Promise<Outcome>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${path} within ${DEFAULT_WAIT_MS} ms`)), DEFAULT_WAIT_MS);
      const stream = session.request({ ':path': path, ...headers }, { endStream: true });
      stream.on('error', () => {}); // an RST_STREAM from the server: 'close' reports its code
      stream.on('response', (response: IncomingHttpHeaders) => {
        clearTimeout(timer);
        resolve({ status: Number(response[':status']) });
        stream.resume();
      });
      stream.on('close', () => {
        clearTimeout(timer);
        resolve({ rstCode: stream.rstCode ?? -1 });
      });
    });
  } finally {
    session.destroy();
  }
}

/** One SPDY request (a GET with `extra` headers) on a fresh connection: status, RST_STREAM status or GOAWAY. */
export async function spdyOutcome(port: number, alpn: SpdyAlpn, path: string, extra: FlatHeaders = []): Promise<Outcome> {
  const peer = await RawSpdyPeer.connect(port, alpn);
  try {
    peer.write(peer.request(1, path, { extra }));
    const answer = await peer.nextFrame((frame) => ('streamId' in frame && frame.streamId === 1 && (frame.type === 'SYN_REPLY' || frame.type === 'RST_STREAM')) || frame.type === 'GOAWAY', DEFAULT_WAIT_MS, 'SYN_REPLY, RST_STREAM or GOAWAY');
    if (answer.type === 'GOAWAY') return { goaway: true };
    if (answer.type === 'RST_STREAM') return { rstCode: answer.status };
    return { status: (await peer.response(1)).status };
  } finally {
    peer.close();
  }
}

/** `count` headers `x-h0: v`, `x-h1: v`, …, flat (SPDY) and as an object (h2). */
export function manyHeaders(count: number): { flat: FlatHeaders; object: OutgoingHttpHeaders } {
  const flat: FlatHeaders = [];
  const object: OutgoingHttpHeaders = {};
  for (let i = 0; i < count; i++) {
    flat.push(`x-h${i}`, 'v');
    object[`x-h${i}`] = 'v';
  }
  return { flat, object };
}

/** The buffer tests' app (test/fixtures/tuning-app.ts), as --module names it. */
export const TUNING_APP_MODULE = `${fileURLToPath(new URL('../fixtures/tuning-app.ts', import.meta.url))}:tuningApp`;

/**
 * spry in this process, configured from `args` as the command line gives them (plus the tuning
 * app as --module), so the test shares the app module and sees what it reports.
 */
export async function startFromCommandLine(args: readonly string[]): Promise<RunningServer> {
  return startServer(await parseCommandLine([...args, '--module', TUNING_APP_MODULE]));
}

/** The port of the `index`th listener a server started. */
export function portOf(server: RunningServer, index: number): number {
  return (server.listeners[index].listener.address as AddressInfo).port;
}
