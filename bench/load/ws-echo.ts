// Scenario 11's client: C WebSockets, each sending one binary message of S bytes and waiting for
// its echo, again and again, for D seconds after a warm-up. Over HTTP/1.1 it is the `ws` client;
// over h2 (h2c, prior knowledge) a small RFC 8441 client on node:http2: an extended CONNECT,
// then masked frames out and unmasked frames in on the stream (node has no such client).
//
//   node bench/load/ws-echo.ts h1|h2 ORIGIN/PATH -c C -s S -D SECONDS [--warmup SECONDS]
// Prints one JSON line: { roundTripsPerSecond, bytesPerSecond (payload, both ways) }.

import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:http2';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { c: { type: 'string', default: '8' }, s: { type: 'string', default: '32' }, D: { type: 'string', default: '3' }, warmup: { type: 'string', default: '1' } },
});
const [mode, target] = positionals;
const connections = Number(values.c);
const size = Number(values.s);
const durationMs = Number(values.D) * 1000;
const warmupMs = Number(values.warmup) * 1000;

/** One WebSocket: echo(message) resolves at its echo. */
interface Echoer {
  echo(message: Buffer): Promise<void>;
  close(): void;
}

async function h1Echoer(): Promise<Echoer> {
  const ws = new WebSocket(target.replace(/^http/, 'ws'), { perMessageDeflate: false });
  await once(ws, 'open');
  let waiting: (() => void) | undefined;
  ws.on('message', () => waiting?.());
  return {
    echo: (message) => new Promise<void>((resolve) => {
      waiting = resolve;
      ws.send(message);
    }),
    close: () => ws.terminate(),
  };
}

async function h2Echoer(): Promise<Echoer> {
  const url = new URL(target);
  const session = connect(url.origin);
  session.on('error', () => {});
  await once(session, 'remoteSettings');
  const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'http', ':path': url.pathname, ':authority': url.host, 'sec-websocket-version': '13' }, { endStream: false });
  const [headers] = (await once(stream, 'response')) as [Record<string, unknown>];
  if (headers[':status'] !== 200) throw new Error(`extended CONNECT answered ${String(headers[':status'])}`);
  let buffered: Buffer = Buffer.alloc(0);
  let waiting: (() => void) | undefined;
  stream.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    for (;;) {
      const frame = frameLength(buffered);
      if (frame === undefined || buffered.length < frame) return;
      buffered = buffered.subarray(frame);
      waiting?.();
    }
  });
  return {
    echo: (message) => new Promise<void>((resolve) => {
      waiting = resolve;
      stream.write(maskedFrame(message));
    }),
    close: () => session.destroy(),
  };
}

/** A client's binary frame (RFC 6455 §5.2): FIN, opcode 2, masked. */
function maskedFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const header = length < 126 ? Buffer.from([0x82, 0x80 | length]) : length < 65536 ? Buffer.from([0x82, 0x80 | 126, length >> 8, length & 0xff]) : Buffer.concat([Buffer.from([0x82, 0x80 | 127, 0, 0, 0, 0]), Buffer.from([length >>> 24, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff])]);
  const mask = randomBytes(4);
  const masked = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) masked[i] = payload[i] ^ mask[i & 3];
  return Buffer.concat([header, mask, masked]);
}

/** The whole length of the unmasked server frame at the start of `bytes`, once its header is in. */
function frameLength(bytes: Buffer): number | undefined {
  if (bytes.length < 2) return undefined;
  const length7 = bytes[1] & 0x7f;
  if (length7 < 126) return 2 + length7;
  if (length7 === 126) return bytes.length < 4 ? undefined : 4 + bytes.readUInt16BE(2);
  return bytes.length < 10 ? undefined : 10 + Number(bytes.readBigUInt64BE(2));
}

const echoers = await Promise.all(Array.from({ length: connections }, () => (mode === 'h2' ? h2Echoer() : h1Echoer())));
const message = randomBytes(size);
let counting = false;
let roundTrips = 0;
let stop = false;
const loops = echoers.map(async (echoer) => {
  while (!stop) {
    await echoer.echo(message);
    if (counting) roundTrips++;
  }
});
await new Promise((resolve) => setTimeout(resolve, warmupMs));
counting = true;
const started = process.hrtime.bigint();
await new Promise((resolve) => setTimeout(resolve, durationMs));
counting = false;
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
stop = true;
await Promise.race([Promise.all(loops), new Promise((resolve) => setTimeout(resolve, 2000))]);
for (const echoer of echoers) echoer.close();
process.stdout.write(`${JSON.stringify({ roundTripsPerSecond: roundTrips / seconds, bytesPerSecond: (2 * roundTrips * size) / seconds })}\n`);
process.exit(0);
