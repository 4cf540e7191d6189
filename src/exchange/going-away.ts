// The end of a drain's grace (reload, shutdown) for upgraded connections. Whatever an app took
// over is closed then; a WebSocket whose 101 went out gets a close frame first, 1001 Going Away,
// so the client learns the server left on purpose and may reconnect (RFC 6455 §7.4.1). The frame
// follows everything already written to the socket, and the socket ends rather than being cut,
// so no frame the app sent before is lost; the drain destroys what is left GOING_AWAY_FLUSH_MS
// later (connection-handler.ts).

import type { Duplex } from 'node:stream';

/** A server's close frame, unmasked (RFC 6455 §5.2, §5.5.1): FIN + close, 2 bytes, code 1001. */
export const GOING_AWAY_FRAME: Buffer = Buffer.from([0x88, 0x02, 0x03, 0xe9]);
/** How long a going-away socket may take to flush and close before it is destroyed. */
export const GOING_AWAY_FLUSH_MS = 1_000;

const kGoAway = Symbol('spry.goAway');
type Marked = Duplex & { [kGoAway]?: () => void };

/** True for an upgrade to WebSocket (`Upgrade: websocket`, `:protocol websocket`). */
export function isWebSocket(protocol: string | undefined): boolean {
  return protocol !== undefined && /^\s*websocket\s*$/i.test(protocol);
}

/**
 * Says how `socket` is closed when a drain's grace ends: by `goAway` (the forwarding relay's,
 * which knows where frames end), or, by default, with a close frame 1001 and an end.
 */
export function markWebSocket(socket: Duplex, goAway?: () => void): void {
  const marked = socket as Marked;
  if (goAway !== undefined) marked[kGoAway] = goAway;
  else marked[kGoAway] ??= () => socket.end(GOING_AWAY_FRAME);
}

/**
 * Watches the first bytes written on an HTTP/1.1 socket an app took over for a WebSocket
 * upgrade: if they are a 101, the socket is a WebSocket from then on. The app writes its answer
 * straight to the socket, so its first write() is the one place to see it.
 */
export function watchForSwitch(socket: Duplex): void {
  const write = socket.write;
  socket.write = function (this: Duplex, ...args: Parameters<Duplex['write']>): boolean {
    socket.write = write;
    const chunk = args[0] as unknown;
    const text = typeof chunk === 'string' ? chunk.slice(0, 13) : Buffer.isBuffer(chunk) ? chunk.toString('latin1', 0, 13) : '';
    if (/^HTTP\/1\.1 101/.test(text)) markWebSocket(socket);
    return write.apply(this, args);
  } as Duplex['write'];
}

/**
 * Closes an upgraded socket at a drain's end: a marked WebSocket goes away (true: it is closing
 * on its own); anything else is destroyed.
 */
export function goAway(socket: Duplex): boolean {
  const close = (socket as Marked)[kGoAway];
  if (close === undefined || socket.destroyed) {
    socket.destroy();
    return false;
  }
  close();
  return true;
}

/** goAway() for each socket; true if any is closing on its own. */
export function goAwayAll(sockets: Iterable<Duplex>): boolean {
  let closing = false;
  for (const socket of sockets) closing = goAway(socket) || closing;
  return closing;
}
