// Scenario 9's clients, each in a process of its own (so that framing an attack never holds up
// the legitimate client's timer): one attack on one connection, exact bytes over TLS; or the
// legitimate client (`legitimate`), which GETs / one request at a time on a connection of its
// own and times each. Prints one JSON line.
//
//   node bench/load/attack.ts ROLE PROTOCOL PORT SECONDS
//     ROLE      legitimate | ping-flood | rapid-reset | stalled | bad-targets
//     PROTOCOL  spdy/2 | spdy/3 | spdy/3.1 | h2
//
// ping-flood:  PINGs in batches of 10,000, never reading, 200,000 at most
// rapid-reset: request + reset pairs (SYN_STREAM + RST_STREAM CANCEL; HEADERS + RST_STREAM CANCEL),
//              20,000 at most
// stalled:     1,000 streams GET /download?n=1000000 with a 16 KiB window never opened further
//              (the size: with 100 the server's CPU was a clock tick or two), held
//              open until SECONDS
// bad-targets: requests for targets that are not origin-form (x, /a b, /\x7f, and http://x/,
//              which only SPDY/2 may send, so there it is `http://x y/`), 5,000 at most
// An attacker whose connection the server closes connects again (a persistent attacker), until
// SECONDS or its count.
//
//   node bench/load/attack.ts legitimate PROTOCOL PORT SECONDS [WARMUP]
// times only the requests after WARMUP seconds of them.

import { connect as http2Connect } from 'node:http2';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { HeaderDeflater } from '../../src/spdy/compression.ts';
import { encodePing, encodeRstStream, encodeSettings, encodeSynStream } from '../../src/spdy/frame-encoder.ts';
import { encodeHeaderBlock } from '../../src/spdy/header-block.ts';
import { SpdyClient } from '../../src/spdy/client.ts';
import { SPDY_VERSIONS, type SpdyAlpn } from '../../src/spdy/versions.ts';
import { H2_PREFACE, h2Frame, h2Literal } from '../../test/helpers/raw-h2-peer.ts';
import { LatencyHistogram } from '../lib/histogram.ts';

type Protocol = SpdyAlpn | 'h2';
const [role, protocol, portText, secondsText, warmupText = '0'] = process.argv.slice(2) as [string, Protocol, string, string, string?];
const port = Number(portText);
const durationMs = Number(secondsText) * 1000;
const V = protocol === 'h2' ? undefined : SPDY_VERSIONS[protocol];
const PING_BATCH = 10_000;
const MAX_PINGS = 200_000;
const RESET_BATCH = 500;
const MAX_RESETS = 20_000;
const STALLED_STREAMS = 1000;
const SMALL_WINDOW = 16_384;
const BAD_TARGET_BATCH = 100;
const MAX_BAD_TARGETS = 5_000;
const BAD_TARGETS = V?.urlIsAbsolute === true ? ['http://x y/', 'x', '/a b', '/\x7f'] : ['http://x/', 'x', '/a b', '/\x7f'];

// ── the attacker's frames ─────────────────────────────────────────────────

/** A request's frame: SYN_STREAM (compressed by `deflater`) or an h2 HEADERS (HPACK, no indexing). */
function requestFrame(deflater: HeaderDeflater | undefined, id: number, path: string): Buffer {
  if (deflater !== undefined && V !== undefined) {
    const names = V.headers;
    const block = encodeHeaderBlock(V, [names.method, 'GET', names.path, path, names.version, 'HTTP/1.1', names.host, 'localhost', names.scheme, 'https']);
    return encodeSynStream(V, { streamId: id, associatedStreamId: 0, priority: 0, fin: true, unidirectional: false }, Buffer.from(deflater.deflate(block)));
  }
  // :method GET and :scheme https from the static table, :path and :authority as literals.
  const block = Buffer.concat([Buffer.from([0x82, 0x87]), h2Literal(':path', path), h2Literal(':authority', 'localhost')]);
  return h2Frame(0x1, 0x5, id, block); // HEADERS, END_STREAM | END_HEADERS
}

function resetFrame(id: number): Buffer {
  if (V !== undefined) return encodeRstStream(V, id, 5 /* CANCEL */);
  const code = Buffer.alloc(4);
  code.writeUInt32BE(0x8); // CANCEL
  return h2Frame(0x3, 0, id, code);
}

function pingFrame(n: number): Buffer {
  return V !== undefined ? encodePing(V, (2 * n + 1) >>> 0) : h2Frame(0x6, 0, 0, Buffer.alloc(8, n & 0xff));
}

/** The connection's opening: h2's preface and SETTINGS, or SPDY's SETTINGS (both a 16 KiB stream window). */
function opening(): Buffer {
  if (V !== undefined) return encodeSettings(V, [{ id: 7, flags: 0, value: SMALL_WINDOW }]);
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

/** What an attack did: frames (streams, for stalled) the kernel took, connections, how many the server closed. */
interface Outcome {
  sent: number;
  connections: number;
  closedByServer: number;
  /** stalled: the RST_STREAMs the server sent (it gave up on that many streams). */
  resetsReceived?: number;
}

/** Counts the RST_STREAM frames in what the server sends (frame headers of 8 bytes on SPDY, 9 on h2, whose server preface is a SETTINGS frame). */
class ResetCounter {
  private readonly headerBytes = V === undefined ? 9 : 8;
  private header = Buffer.alloc(9);
  private headerFill = 0;
  /** Payload bytes of the current frame still to skip. */
  private skip = 0;

  count(chunk: Buffer): number {
    let resets = 0;
    for (let at = 0; at < chunk.length; ) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, chunk.length - at);
        this.skip -= take;
        at += take;
        continue;
      }
      const take = Math.min(this.headerBytes - this.headerFill, chunk.length - at);
      chunk.copy(this.header, this.headerFill, at, at + take);
      this.headerFill += take;
      at += take;
      if (this.headerFill < this.headerBytes) break;
      this.headerFill = 0;
      const h = this.header;
      if (V === undefined) {
        this.skip = h.readUIntBE(0, 3);
        if (h[3] === 0x3) resets++;
      } else {
        this.skip = h.readUIntBE(5, 3);
        if ((h[0] & 0x80) !== 0 && h.readUInt16BE(2) === 3) resets++;
      }
    }
    return resets;
  }
}

/**
 * A persistent attacker: the attack on one connection and, each time the server closes it,
 * on a new one, until `deadline` or its count. So every server is sent about as much, and one
 * that closes early pays for the handshakes the attacker comes back with.
 */
async function runAttack(deadline: number): Promise<Outcome> {
  const outcome: Outcome = { sent: 0, connections: 0, closedByServer: 0 };
  while (performance.now() < deadline && outcome.sent < MAX_FRAMES[role]) {
    const closedByServer = await attackConnection(deadline, outcome);
    outcome.connections++;
    if (!closedByServer) break;
    outcome.closedByServer++;
  }
  return outcome;
}

const MAX_FRAMES: Record<string, number> = { 'ping-flood': MAX_PINGS, 'rapid-reset': MAX_RESETS, stalled: Infinity, 'bad-targets': MAX_BAD_TARGETS };

/** The attack on one connection; true if the server closed it. Counts into `outcome.sent`. */
async function attackConnection(deadline: number, outcome: Outcome): Promise<boolean> {
  const socket = await connectRaw();
  let closed = false;
  socket.on('close', () => (closed = true));
  const deflater = V !== undefined ? new HeaderDeflater(V.dictionary) : undefined;
  socket.write(opening());
  const more = (): boolean => !closed && outcome.sent < MAX_FRAMES[role] && performance.now() < deadline;
  /** Writes `bytes`; `count` frames are counted once the socket took them (drained), not while they wait in this process. */
  const writeCounted = async (bytes: Buffer, count: number): Promise<void> => {
    if (!socket.write(bytes)) {
      const drained = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), Math.max(0, deadline - performance.now()));
        const settle = (value: boolean) => (): void => {
          clearTimeout(timer);
          socket.off('drain', onDrain).off('close', onClose);
          resolve(value);
        };
        const onDrain = settle(true);
        const onClose = settle(false); // the server closed it: a new connection may go on
        socket.once('drain', onDrain).once('close', onClose);
      });
      if (!drained || closed) return;
    }
    outcome.sent += count;
  };
  if (role === 'ping-flood') {
    socket.pause(); // never read
    while (more()) await writeCounted(Buffer.concat(Array.from({ length: PING_BATCH }, (_, i) => pingFrame(outcome.sent + i))), PING_BATCH);
  } else if (role === 'rapid-reset') {
    socket.resume(); // read and discard
    let id = 1;
    while (more()) {
      const frames: Buffer[] = [];
      for (let i = 0; i < RESET_BATCH; i++, id += 2) frames.push(requestFrame(deflater, id, '/'), resetFrame(id));
      await writeCounted(Buffer.concat(frames), RESET_BATCH);
      await sleep(1);
    }
  } else if (role === 'stalled') {
    // Read (and drop) what the window lets through, never opening it further; count the streams reset.
    const resets = new ResetCounter();
    socket.on('data', (chunk: Buffer) => (outcome.resetsReceived = (outcome.resetsReceived ?? 0) + resets.count(chunk)));
    const frames: Buffer[] = [];
    for (let i = 0; i < STALLED_STREAMS; i++) frames.push(requestFrame(deflater, 2 * i + 1, '/download?n=1000000'));
    await writeCounted(Buffer.concat(frames), STALLED_STREAMS);
    while (!closed && performance.now() < deadline) await sleep(50);
  } else if (role === 'bad-targets') {
    socket.resume();
    let id = 1;
    while (more()) {
      const frames: Buffer[] = [];
      for (let i = 0; i < BAD_TARGET_BATCH; i++, id += 2) frames.push(requestFrame(deflater, id, BAD_TARGETS[(id >> 1) % BAD_TARGETS.length]));
      await writeCounted(Buffer.concat(frames), BAD_TARGET_BATCH);
      await sleep(5);
    }
  } else {
    throw new Error(`unknown attack ${role}`);
  }
  const closedByServer = closed;
  socket.destroy();
  return closedByServer;
}

// ── the legitimate client ────────────────────────────────────────────────

/** GET / one at a time until `deadline`; each latency (in µs) from `recordFrom` on goes into `histogram`. */
async function legitimate(recordFrom: number, deadline: number, histogram: LatencyHistogram): Promise<number> {
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
      if (started < recordFrom) continue;
      if (ok) histogram.record((performance.now() - started) * 1000);
      else failed++;
    }
    session.destroy();
    return failed;
  }
  const client = await SpdyClient.connect({ host: '127.0.0.1', port, protocol: protocol as SpdyAlpn });
  while (performance.now() < deadline) {
    const started = performance.now();
    try {
      await client.request('/');
      if (started >= recordFrom) histogram.record((performance.now() - started) * 1000);
    } catch {
      if (started >= recordFrom) failed++;
    }
  }
  await client.close();
  return failed;
}

const recordFrom = performance.now() + Number(warmupText) * 1000;
const deadline = recordFrom + durationMs;
if (role === 'legitimate') {
  const histogram = new LatencyHistogram();
  const failed = await legitimate(recordFrom, deadline, histogram);
  process.stdout.write(`${JSON.stringify({ requests: histogram.count, failed, p50Ms: histogram.percentile(0.5) / 1000, p99Ms: histogram.percentile(0.99) / 1000 })}\n`);
} else {
  const started = performance.now();
  const outcome = await runAttack(deadline);
  process.stdout.write(`${JSON.stringify({ ...outcome, seconds: (performance.now() - started) / 1000 })}\n`);
}
process.exit(0);
