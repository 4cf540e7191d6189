// The backend of the backend fuzz target: a TCP server that reads spry's forwarded requests
// (HTTP/1.1, kept alive, or uwsgi packets, one per connection), learns each one's case from its
// target (/fuzz/<i>), and answers with that case's bytes (backend-generator.ts), then keeps,
// closes or resets the connection, goes silent, or sends bytes nobody asked for. /probe/<r> gets
// a well-formed answer, `probe-<r>`.

import { createServer, type Server, type Socket } from 'node:net';
import { decodeVars, UWSGI_HEADER_BYTES } from '../../src/uwsgi/packet.ts';
import { backendCase, type BackendAfter } from './backend-generator.ts';
import { writeChunks } from './wire.ts';

export type BackendProtocol = 'http' | 'uwsgi';

/** What the backend makes of one request's head: its target, and how much body follows. */
interface RequestHead {
  readonly target: string;
  /** Body bytes to skip, or 'chunked'. */
  readonly body: number | 'chunked';
}

export interface HostileBackend {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

export async function startHostileBackend(protocol: BackendProtocol, seed: number): Promise<HostileBackend> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    serveConnection(socket, protocol, seed);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the hostile backend has no port');
  return {
    server,
    port: address.port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function serveConnection(socket: Socket, protocol: BackendProtocol, seed: number): void {
  let buffered: Buffer = Buffer.alloc(0);
  /** Answering, or gone silent: bytes that arrive meanwhile wait (spry does not pipeline). */
  let busy = false;
  let silent = false;
  const next = async (): Promise<void> => {
    while (!busy && !socket.destroyed) {
      const parsed = protocol === 'http' ? parseHttpHead(buffered) : parseUwsgiHead(buffered);
      if (parsed === undefined) return;
      if (parsed === 'bad') return void socket.destroy();
      const [head, headBytes] = parsed;
      const match = /^\/(fuzz|probe)\/(\d+)/.exec(head.target);
      if (match === null) return void socket.destroy();
      const index = Number(match[2]);
      // A silent connection answers nothing more but probes: spry may keep a connection whose
      // answer was whole, and a request it sends there gets its 504; the probe must still pass.
      const plan = match[1] === 'probe' ? probeCase(index) : silent ? SILENCE : backendCase(seed, index);
      // The body: skipped before answering, or answered at once and skipped after (a chunked
      // one is always read first).
      const bodyEnd = bodyLength(buffered, headBytes, head.body);
      if ((plan.readBodyFirst || head.body === 'chunked') && bodyEnd === undefined) return;
      busy = true;
      if (bodyEnd !== undefined) buffered = buffered.subarray(bodyEnd);
      else buffered = skipBodyLater(buffered.subarray(headBytes), head.body as number);
      await writeChunks(socket, plan.response, plan.pauseEvery);
      busy = false;
      silent ||= endAfter(socket, protocol === 'uwsgi' && plan.after === 'keep' ? 'close' : plan.after);
    }
  };
  let skipping: { left: number } | undefined;
  const skipBodyLater = (rest: Buffer, body: number): Buffer => {
    const take = Math.min(rest.length, body);
    if (take < body) skipping = { left: body - take };
    return rest.subarray(take);
  };
  socket.on('data', (chunk: Buffer) => {
    if (skipping !== undefined) {
      const take = Math.min(chunk.length, skipping.left);
      skipping.left -= take;
      chunk = chunk.subarray(take);
      if (skipping.left === 0) skipping = undefined;
    }
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    void next();
  });
}

/** Probe requests: a well-formed answer whose body names the round. */
function probeCase(round: number) {
  const body = `probe-${round}`;
  return { readBodyFirst: true, response: [Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`, 'latin1')], pauseEvery: 1, after: 'keep' as const };
}

/** What a silent connection answers a case with: nothing. */
const SILENCE = { readBodyFirst: true, response: [], pauseEvery: 1, after: 'silent' as const };

/** True if the connection is left silent. */
function endAfter(socket: Socket, after: BackendAfter): boolean {
  switch (after) {
    case 'keep':
    case 'extra':
      return false;
    case 'close':
      socket.end();
      return false;
    case 'reset':
      socket.resetAndDestroy();
      return false;
    case 'silent':
      return true;
  }
}

/** A request head and its length, undefined while incomplete, 'bad' if it is not one. */
function parseHttpHead(data: Buffer): [RequestHead, number] | undefined | 'bad' {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return data.length > 1 << 20 ? 'bad' : undefined;
  const lines = data.toString('latin1', 0, end).split('\r\n');
  const target = lines[0].split(' ')[1] ?? '';
  let body: number | 'chunked' = 0;
  for (const line of lines.slice(1)) {
    const [name, value = ''] = line.split(/:\s*/, 2);
    if (name.toLowerCase() === 'content-length') body = Number(value);
    if (name.toLowerCase() === 'transfer-encoding' && /chunked/i.test(value)) body = 'chunked';
  }
  return [{ target, body }, end + 4];
}

function parseUwsgiHead(data: Buffer): [RequestHead, number] | undefined | 'bad' {
  if (data.length < UWSGI_HEADER_BYTES) return undefined;
  const size = data.readUInt16LE(1);
  if (data.length < UWSGI_HEADER_BYTES + size) return undefined;
  try {
    const vars = decodeVars(data.subarray(UWSGI_HEADER_BYTES, UWSGI_HEADER_BYTES + size));
    return [{ target: vars.REQUEST_URI ?? vars.PATH_INFO ?? '', body: Number(vars.CONTENT_LENGTH ?? 0) || 0 }, UWSGI_HEADER_BYTES + size];
  } catch {
    return 'bad';
  }
}

/** Where the body after `start` ends in `data`, or undefined if it has not all arrived. */
function bodyLength(data: Buffer, start: number, body: number | 'chunked'): number | undefined {
  if (body !== 'chunked') return data.length - start >= body ? start + body : undefined;
  // spry's own chunked framing: size lines in hex, each chunk then CRLF, a last chunk of 0 and CRLF.
  let at = start;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = Number.parseInt(data.toString('latin1', at, eol), 16);
    if (size === 0) return data.length >= eol + 4 ? eol + 4 : undefined;
    at = eol + 2 + size + 2;
    if (at > data.length) return undefined;
  }
}
