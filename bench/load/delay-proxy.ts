// delay-proxy: a TCP proxy on loopback that holds every chunk for half a round trip in each
// direction, so that round trips cost something measurable without root or `tc` (scenario 7).
// Order is kept (one queue per direction, released by one timer); so are half-closes. Nothing
// limits bandwidth: only latency is added. The TCP handshake itself is not delayed (the
// client's connect to the proxy completes at once), so a TLS 1.3 handshake costs one RTT.
//
//   node bench/load/delay-proxy.ts [--rtt MS] TARGET_PORT   prints "listening PORT"
//     --rtt MS   the round trip to add, half each way (default 20)
//
// Listens on 127.0.0.1 and forwards to 127.0.0.1:TARGET_PORT only.

import { connect, createServer, type Server, type Socket } from 'node:net';
import { parseArgs } from 'node:util';

const LOOPBACK = '127.0.0.1';
export const DEFAULT_RTT_MS = 20;
/**
 * Timers fire on whole milliseconds of the loop's cached clock, often one late: the proxy sleeps
 * until this close to a chunk's due time and polls the rest of the way with setImmediate, so
 * each hop is late by a fraction of a millisecond rather than by up to two.
 */
const TIMER_SLACK_MS = 1.5;

export interface DelayProxy {
  readonly port: number;
  close(): Promise<void>;
}

/** One direction of one connection: chunks queued with the time they may leave. */
class DelayedPipe {
  private readonly queue: { readonly dueMs: number; readonly chunk: Buffer | null }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private poll: NodeJS.Immediate | null = null;
  private readonly from: Socket;
  private readonly to: Socket;
  private readonly delayMs: number;

  constructor(from: Socket, to: Socket, delayMs: number) {
    this.from = from;
    this.to = to;
    this.delayMs = delayMs;
    from.on('data', (chunk: Buffer) => this.enqueue(chunk));
    from.on('end', () => this.enqueue(null)); // the half-close travels as late as the data
    to.on('drain', () => from.resume());
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.poll !== null) clearImmediate(this.poll);
    this.timer = null;
    this.poll = null;
    this.queue.length = 0;
  }

  private enqueue(chunk: Buffer | null): void {
    this.queue.push({ dueMs: performance.now() + this.delayMs, chunk });
    if (this.timer === null && this.poll === null) this.arm();
  }

  private arm(): void {
    const wait = this.queue[0].dueMs - performance.now();
    if (wait > TIMER_SLACK_MS) this.timer = setTimeout(this.releaseBound, Math.floor(wait - TIMER_SLACK_MS));
    else this.poll = setImmediate(this.releaseBound);
  }

  private readonly releaseBound = (): void => this.release();

  private release(): void {
    this.timer = null;
    this.poll = null;
    const now = performance.now();
    while (this.queue.length > 0 && this.queue[0].dueMs <= now) {
      const { chunk } = this.queue.shift()!;
      if (this.to.destroyed) return this.stop();
      if (chunk === null) this.to.end();
      else if (!this.to.write(chunk)) this.from.pause(); // resumed on 'drain'
    }
    if (this.queue.length > 0) this.arm();
  }
}

export function startDelayProxy(targetPort: number, rttMs = DEFAULT_RTT_MS, port = 0): Promise<DelayProxy> {
  const live = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const upstream = connect({ host: LOOPBACK, port: targetPort, allowHalfOpen: true, noDelay: true });
    const pipes = [new DelayedPipe(client, upstream, rttMs / 2), new DelayedPipe(upstream, client, rttMs / 2)];
    // A reset on either side resets the other (a clean close travels as a delayed FIN instead).
    const teardown = (): void => {
      pipes.forEach((pipe) => pipe.stop());
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      live.add(socket);
      socket.on('error', teardown);
      socket.on('close', () => {
        live.delete(socket);
        if (client.destroyed && upstream.destroyed) pipes.forEach((pipe) => pipe.stop());
      });
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('delay-proxy: no port'));
      resolve({
        port: address.port,
        close: () =>
          new Promise((done) => {
            for (const socket of live) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { rtt: { type: 'string', default: String(DEFAULT_RTT_MS) } } });
  const rttMs = Number(values.rtt);
  const targetPort = Number(positionals[0]);
  if (!(rttMs >= 0) || !Number.isInteger(targetPort) || targetPort < 1 || targetPort > 65_535 || positionals.length !== 1) {
    process.stderr.write('usage: delay-proxy.ts [--rtt MS] TARGET_PORT\n');
    process.exit(2);
  }
  const proxy = await startDelayProxy(targetPort, rttMs);
  process.stdout.write(`listening ${proxy.port}\n`);
}
