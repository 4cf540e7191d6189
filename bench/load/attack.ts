// Scenario 9's client: one attack on one connection, exact bytes over TLS, while a legitimate
// client on a connection of its own GETs / one request at a time and times each; or that client
// alone (`none`), for its latency without an attack. Prints one JSON line.
//
//   node bench/load/attack.ts ATTACK PROTOCOL PORT SECONDS
//     ATTACK    none | ping-flood | rapid-reset | stalled | bad-targets
//     PROTOCOL  spdy/3.1 | h2
//
// ping-flood:  PINGs in batches of 10,000, never reading, until the server closes or 200,000
// rapid-reset: request + reset pairs (SYN_STREAM + RST_STREAM CANCEL; HEADERS + RST_STREAM CANCEL)
// stalled:     100 streams GET /download?n=1000000 with a 16 KiB window never opened further
// bad-targets: requests for targets that are not origin-form (http://x, x, /a b, /\x7f)
// Every attack stops at SECONDS, or when the server closes the connection.

import { connect as http2Connect } from 'node:http2';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { HeaderDeflater } from '../../src/spdy/compression.ts';
import { encodePing, encodeRstStream, encodeSettings, encodeSynStream } from '../../src/spdy/frame-encoder.ts';
import { encodeHeaderBlock } from '../../src/spdy/header-block.ts';
import { SpdyClient } from '../../src/spdy/client.ts';
import { SPDY_VERSIONS } from '../../src/spdy/versions.ts';
import { H2_PREFACE, h2Frame, h2Literal } from '../../test/helpers/raw-h2-peer.ts';
import { LatencyHistogram } from '../lib/histogram.ts';

type Protocol = 'spdy/3.1' | 'h2';
const [attack, protocol, portText, secondsText] = process.argv.slice(2) as [string, Protocol, string, string];
const port = Number(portText);
const durationMs = Number(secondsText) * 1000;
const V31 = SPDY_VERSIONS['spdy/3.1'];
const PING_BATCH = 10_000;
const MAX_PINGS = 200_000;
const RESET_BATCH = 500;
const STALLED_STREAMS = 100;
const SMALL_WINDOW = 16_384;
const BAD_TARGETS = ['http://x/', 'x', '/a b', '/\x7f'];

// ── the attacker's frames ─────────────────────────────────────────────────

/** A request's frame: SYN_STREAM (compressed by `deflater`) or an h2 HEADERS (HPACK, no indexing). */
function requestFrame(deflater: HeaderDeflater | undefined, id: number, path: string): Buffer {
  if (deflater !== undefined) {
    const block = encodeHeaderBlock(V31, [':method', 'GET', ':path', path, ':version', 'HTTP/1.1', ':host', 'localhost', ':scheme', 'https']);
    return encodeSynStream(V31, { streamId: id, associatedStreamId: 0, priority: 0, fin: true, unidirectional: false }, Buffer.from(deflater.deflate(block)));
  }
  // :method GET and :scheme https from the static table, :path and :authority as literals.
  const block = Buffer.concat([Buffer.from([0x82, 0x87]), h2Literal(':path', path), h2Literal(':authority', 'localhost')]);
  return h2Frame(0x1, 0x5, id, block); // HEADERS, END_STREAM | END_HEADERS
}

function resetFrame(spdy: boolean, id: number): Buffer {
  if (spdy) return encodeRstStream(V31, id, 5 /* CANCEL */);
  const code = Buffer.alloc(4);
  code.writeUInt32BE(0x8); // CANCEL
  return h2Frame(0x3, 0, id, code);
}

function pingFrame(spdy: boolean, n: number): Buffer {
  return spdy ? encodePing(V31, (2 * n + 1) >>> 0) : h2Frame(0x6, 0, 0, Buffer.alloc(8, n & 0xff));
}

/** The connection's opening: h2's preface and SETTINGS, or SPDY's SETTINGS (both a 16 KiB stream window). */
function opening(spdy: boolean): Buffer {
  if (spdy) return encodeSettings(V31, [{ id: 7, flags: 0, value: SMALL_WINDOW }]);
  const setting = Buffer.alloc(6);
  setting.writeUInt16BE(0x4); // SETTINGS_INITIAL_WINDOW_SIZE
  setting.writeUInt32BE(SMALL_WINDOW, 2);
  return Buffer.concat([H2_PREFACE, h2Frame(0x4, 0, 0, setting)]);
}

// ── the attacks ──────────────────────────────────────────────────────────

function connectRaw(): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ALPNProtocols: [protocol], rejectUnauthorized: false });
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      resolve(socket);
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the attack until `deadline`; returns what it sent and whether the server closed the connection. */
async function runAttack(deadline: number): Promise<{ sent: number; closedByServer: boolean }> {
  const spdy = protocol !== 'h2';
  const socket = await connectRaw();
  let closed = false;
  socket.on('close', () => (closed = true));
  const deflater = spdy ? new HeaderDeflater(V31.dictionary) : undefined;
  socket.write(opening(spdy));
  let sent = 0;
  const writeAndWait = async (bytes: Buffer): Promise<void> => {
    if (!socket.write(bytes)) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), sleep(100)]);
  };
  if (attack === 'ping-flood') {
    socket.pause(); // never read
    while (!closed && sent < MAX_PINGS && performance.now() < deadline) {
      const batch = Buffer.concat(Array.from({ length: PING_BATCH }, (_, i) => pingFrame(spdy, sent + i)));
      sent += PING_BATCH;
      await writeAndWait(batch);
    }
  } else if (attack === 'rapid-reset') {
    socket.resume(); // read and discard
    let id = 1;
    while (!closed && performance.now() < deadline) {
      const frames: Buffer[] = [];
      for (let i = 0; i < RESET_BATCH; i++, id += 2) frames.push(requestFrame(deflater, id, '/'), resetFrame(spdy, id));
      sent += RESET_BATCH;
      await writeAndWait(Buffer.concat(frames));
      await sleep(1);
    }
  } else if (attack === 'stalled') {
    socket.resume(); // read (and drop) what the window lets through; never open it further
    const frames: Buffer[] = [];
    for (let i = 0; i < STALLED_STREAMS; i++) frames.push(requestFrame(deflater, 2 * i + 1, '/download?n=1000000'));
    sent = STALLED_STREAMS;
    socket.write(Buffer.concat(frames));
    while (!closed && performance.now() < deadline) await sleep(50);
  } else if (attack === 'bad-targets') {
    socket.resume();
    let id = 1;
    while (!closed && performance.now() < deadline) {
      const frames: Buffer[] = [];
      for (let i = 0; i < 100; i++, id += 2) frames.push(requestFrame(deflater, id, BAD_TARGETS[(id >> 1) % BAD_TARGETS.length]));
      sent += 100;
      await writeAndWait(Buffer.concat(frames));
      await sleep(5);
    }
  } else {
    throw new Error(`unknown attack ${attack}`);
  }
  const closedByServer = closed;
  socket.destroy();
  return { sent, closedByServer };
}

// ── the legitimate client ────────────────────────────────────────────────

/** GET / one at a time until `deadline`; each latency (in µs) goes into `histogram`. */
async function legitimate(deadline: number, histogram: LatencyHistogram): Promise<number> {
  let failed = 0;
  if (protocol === 'h2') {
    const session = http2Connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    session.on('error', () => {});
    while (performance.now() < deadline) {
      const started = performance.now();
      const ok = await new Promise<boolean>((resolve) => {
        const stream = session.request({ ':path': '/' });
        stream.on('error', () => resolve(false));
        stream.on('data', () => {});
        stream.on('end', () => resolve(true));
      });
      if (ok) histogram.record((performance.now() - started) * 1000);
      else failed++;
    }
    session.destroy();
    return failed;
  }
  const client = await SpdyClient.connect({ host: '127.0.0.1', port, protocol });
  while (performance.now() < deadline) {
    const started = performance.now();
    try {
      await client.request('/');
      histogram.record((performance.now() - started) * 1000);
    } catch {
      failed++;
    }
  }
  await client.close();
  return failed;
}

const deadline = performance.now() + durationMs;
const histogram = new LatencyHistogram();
const [outcome, failed] = await Promise.all([attack === 'none' ? Promise.resolve({ sent: 0, closedByServer: false }) : runAttack(deadline), legitimate(deadline, histogram)]);
process.stdout.write(`${JSON.stringify({ attack, protocol, ...outcome, legitimate: { requests: histogram.count, failed, p50Ms: histogram.percentile(0.5) / 1000, p99Ms: histogram.percentile(0.99) / 1000 } })}\n`);
process.exit(0);
