// --http-timeout for upgraded connections (WebSockets and other protocols an app took over):
// a socket that moved no byte either way for the whole timeout is closed. Its own socket
// timer cannot do this: the libraries that take sockets over switch it off (`ws` calls
// setTimeout(0)). One timer per front end looks at every such socket four times per timeout.

import type { Socket } from 'node:net';

const CHECKS_PER_TIMEOUT = 4;

interface Watched {
  bytes: number;
  quietSince: number;
}

export class IdleSockets {
  private readonly timeoutMs: number;
  private readonly sockets = new Map<Socket, Watched>();
  private timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
  }

  add(socket: Socket): void {
    if (this.timeoutMs <= 0) return;
    this.sockets.set(socket, { bytes: socket.bytesRead + socket.bytesWritten, quietSince: Date.now() });
    socket.once('close', () => this.delete(socket));
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.check(), Math.max(1, Math.floor(this.timeoutMs / CHECKS_PER_TIMEOUT)));
      this.timer.unref();
    }
  }

  private delete(socket: Socket): void {
    this.sockets.delete(socket);
    if (this.sockets.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private check(): void {
    const now = Date.now();
    for (const [socket, watched] of this.sockets) {
      const bytes = socket.bytesRead + socket.bytesWritten;
      if (bytes !== watched.bytes) {
        watched.bytes = bytes;
        watched.quietSince = now;
      } else if (now - watched.quietSince >= this.timeoutMs) {
        socket.destroy();
      }
    }
  }
}
