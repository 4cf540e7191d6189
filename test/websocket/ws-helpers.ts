// WebSocket test helpers: an echo server made with `ws` the way its docs show
// (`new WebSocketServer({ server })`) on a spry createServer server, a `ws` client's open and
// round trip, and a hand-rolled RFC 8441 client over node:http2 (node has no WebSocket-over-h2
// client): masked frames on a CONNECT stream.

import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { createServer, type ServerOptions, type SpryServer } from '../../src/index.ts';

export interface EchoServer {
  readonly server: SpryServer;
  readonly wss: WebSocketServer;
  readonly port: number;
  close(): Promise<void>;
}

/** Echoes every message as `echo <message> <SERVER_PROTOCOL of the upgrade>`. */
export async function startEchoServer(options: ServerOptions = {}): Promise<EchoServer> {
  const server = createServer(options, (_req: IncomingMessage, res) => res.end('page'));
  const wss = new WebSocketServer({ server: server });
  wss.on('connection', (ws, req) => {
    ws.on('message', (message) => ws.send(`echo ${String(message)} ${req.environ?.SERVER_PROTOCOL}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    wss,
    port,
    close: () => new Promise<void>((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.close(() => resolve());
    }),
  };
}

/** A `ws` client connected to `url` (any certificate; errors left to 'close'). */
export async function openWs(url: string, options: { headers?: Record<string, string> } = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, { rejectUnauthorized: false, ...options });
  ws.on('error', () => {});
  await once(ws, 'open');
  return ws;
}

/** Sends `message` and resolves with the next message back. */
export async function echo(ws: WebSocket, message: string): Promise<string> {
  ws.send(message);
  const [data] = (await once(ws, 'message')) as [Buffer];
  return data.toString();
}

/** One WebSocket over an h2 stream (RFC 8441), opened with an extended CONNECT. */
export class H2WebSocket {
  readonly session: ClientHttp2Session;
  readonly stream: ClientHttp2Stream;
  readonly response: IncomingHttpHeaders;
  private buffered = Buffer.alloc(0);

  private constructor(session: ClientHttp2Session, stream: ClientHttp2Stream, response: IncomingHttpHeaders) {
    this.session = session;
    this.stream = stream;
    this.response = response;
    stream.on('data', (chunk: Buffer) => (this.buffered = Buffer.concat([this.buffered, chunk])));
  }

  static async open(origin: string, path: string, headers: Record<string, string> = {}, protocol = 'websocket'): Promise<H2WebSocket> {
    const session = connect(origin, { rejectUnauthorized: false });
    session.on('error', () => {});
    const [settings] = (await once(session, 'remoteSettings')) as [{ enableConnectProtocol?: boolean }];
    if (settings.enableConnectProtocol !== true) throw new Error('the server did not send SETTINGS_ENABLE_CONNECT_PROTOCOL');
    const url = new URL(origin);
    const stream = session.request({ ':method': 'CONNECT', ':protocol': protocol, ':scheme': url.protocol.slice(0, -1), ':path': path, ':authority': url.host, 'sec-websocket-version': '13', ...headers }, { endStream: false });
    stream.on('error', () => {});
    const [response] = (await once(stream, 'response')) as [IncomingHttpHeaders];
    return new H2WebSocket(session, stream, response);
  }

  /** Sends a masked text frame (payload under 126 bytes). */
  send(text: string): void {
    const payload = Buffer.from(text);
    const mask = randomBytes(4);
    this.stream.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload.map((byte, i) => byte ^ mask[i % 4])]));
  }

  /** The next unmasked text frame's payload from the server (under 126 bytes). */
  async receive(timeoutMs = 5_000): Promise<string> {
    return (await this.receiveFrame(timeoutMs)).payload.toString();
  }

  /** The next unmasked frame from the server (payload under 126 bytes). */
  async receiveFrame(timeoutMs = 5_000): Promise<{ opcode: number; payload: Buffer }> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffered.length < 2 || this.buffered.length < 2 + (this.buffered[1] & 0x7f)) {
      if (Date.now() > deadline) throw new Error(`no frame within ${timeoutMs} ms (have ${this.buffered.length} bytes)`);
      if (this.stream.destroyed) throw new Error('the stream closed before a frame arrived');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const opcode = this.buffered[0] & 0x0f;
    const length = this.buffered[1] & 0x7f;
    const payload = Buffer.from(this.buffered.subarray(2, 2 + length));
    this.buffered = this.buffered.subarray(2 + length);
    return { opcode, payload };
  }

  /** Everything the server sends on the stream until it ends its side (a refusal's body, say). */
  async body(): Promise<string> {
    if (!this.stream.readableEnded) await once(this.stream, 'end');
    return this.buffered.toString();
  }

  close(): void {
    this.session.destroy();
  }
}
