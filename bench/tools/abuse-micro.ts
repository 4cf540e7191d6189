// Scenario 9's bad-targets and rapid-reset attacks in one process, without TLS: a real
// SpdyServerSession on one end of a loopback TCP connection, the attacker's frames (encoded
// before the clock starts) written to the other. Prints the session's CPU per frame (the
// process's, process.cpuUsage: the attacker only writes prepared bytes and reads the replies)
// and the bytes allocated per frame: the young generation is made larger than the run needs
// (run it with --max-semi-space-size=128 --min-semi-space-size=128, as below), so no scavenge
// falls inside the counted stretch and the heap's growth over it is its garbage.
//
//   npx node --conditions=spry-source --max-semi-space-size=128 --min-semi-space-size=128 \
//     bench/tools/abuse-micro.ts bad-targets|rapid-reset [spdy/3.1] [FRAMES] [ROUNDS]
// Budgets are raised so that one session takes every frame: this is the work per frame.

import { connect, createServer, type Socket } from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import { DEFAULTS } from '../../src/config/config.ts';
import { HeaderDeflater } from '../../src/spdy/compression.ts';
import { encodeRstStream, encodeSynStream } from '../../src/spdy/frame-encoder.ts';
import { encodeHeaderBlock } from '../../src/spdy/header-block.ts';
import { SpdyServerSession } from '../../src/spdy/server-session.ts';
import { SPDY_VERSIONS, type SpdyAlpn } from '../../src/spdy/versions.ts';

const [attack = 'bad-targets', alpn = 'spdy/3.1', framesText = '20000', roundsText = '7'] = process.argv.slice(2);
if (attack !== 'bad-targets' && attack !== 'rapid-reset') throw new Error(`unknown attack ${attack}`);
const V = SPDY_VERSIONS[alpn as SpdyAlpn];
const FRAMES = Number(framesText);
const ROUNDS = Number(roundsText);
const BATCH = attack === 'bad-targets' ? 100 : 500; // as bench/load/attack.ts writes them
const BAD_TARGETS = V.urlIsAbsolute ? ['http://x y/', 'x', '/a b', '/\x7f'] : ['http://x/', 'x', '/a b', '/\x7f'];
const tuning = { ...DEFAULTS.tuning, maxPeerResets: 1e9, maxStreamErrors: 1e9, maxInvalidFrames: 1e9 };
const CONNECTION = { remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 2, secure: false };

/** One round's frames, in batches of BATCH streams: a fresh session's (its ids start at 1). */
function batches(): Buffer[] {
  const deflater = new HeaderDeflater(V.dictionary);
  const names = V.headers;
  const out: Buffer[] = [];
  for (let first = 0; first < FRAMES; first += BATCH) {
    const frames: Buffer[] = [];
    for (let n = first; n < first + BATCH; n++) {
      const id = 2 * n + 1;
      const path = attack === 'bad-targets' ? BAD_TARGETS[n % BAD_TARGETS.length] : '/';
      const block = encodeHeaderBlock(V, [names.method, 'GET', names.path, path, names.version, 'HTTP/1.1', names.host, 'localhost', names.scheme, 'https']);
      frames.push(encodeSynStream(V, { streamId: id, associatedStreamId: 0, priority: 0, fin: true, unidirectional: false }, Buffer.from(deflater.deflate(block))));
      if (attack === 'rapid-reset') frames.push(encodeRstStream(V, id, 5 /* CANCEL */));
    }
    out.push(Buffer.concat(frames));
  }
  return out;
}

/** When each collection began (performance.now()); entries arrive late, so rounds look back at them. */
const collections: number[] = [];
new PerformanceObserver((list) => collections.push(...list.getEntries().map((entry) => entry.startTime))).observe({ entryTypes: ['gc'] });

const tcp = createServer();
await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
const port = (tcp.address() as { port: number }).port;

async function round(prepared: readonly Buffer[]): Promise<{ cpuMicros: number; bytes: number; gcs: number }> {
  const accepted = new Promise<Socket>((resolve) => tcp.once('connection', resolve));
  const attacker = connect(port, '127.0.0.1');
  attacker.on('data', () => {});
  const session = new SpdyServerSession(await accepted, { version: V, tuning, idleTimeoutMs: 0, connection: CONNECTION });
  session.on('stream', (stream) => {
    stream.respond(200, ['content-type', 'text/plain'], false);
    stream.end(Buffer.from('hello\n'));
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  globalThis.gc?.();
  const startedAt = performance.now();
  const heapBefore = process.memoryUsage().heapUsed;
  const cpuBefore = process.cpuUsage();
  for (const bytes of prepared) {
    if (!attacker.write(bytes)) await new Promise((resolve) => attacker.once('drain', resolve));
    await new Promise((resolve) => setImmediate(resolve));
  }
  // The last replies: the session has read everything once its last RST_STREAM (or reply) is out.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const cpu = process.cpuUsage(cpuBefore);
  const heapAfter = process.memoryUsage().heapUsed;
  const endedAt = performance.now();
  attacker.destroy();
  session.destroy();
  await new Promise((resolve) => setTimeout(resolve, 10)); // the observer's entries arrive
  const gcs = collections.filter((at) => at >= startedAt && at <= endedAt).length;
  return { cpuMicros: (cpu.user + cpu.system) / FRAMES, bytes: (heapAfter - heapBefore) / FRAMES, gcs };
}

// SPRY_ABUSE_HEAP_PROFILE=FILE: a sampling heap profile (every allocation site, collected or
// not) of the counted rounds; SPRY_ABUSE_CPU_PROFILE=FILE: a CPU profile of them (read it with
// bench/tools/cpuprofile-top.ts). The attacker's frames are all encoded before either starts.
const heapProfileFile = process.env.SPRY_ABUSE_HEAP_PROFILE;
const cpuProfileFile = process.env.SPRY_ABUSE_CPU_PROFILE;
const inspector = heapProfileFile === undefined && cpuProfileFile === undefined ? undefined : new (await import('node:inspector/promises')).Session();
inspector?.connect();
const rounds = Array.from({ length: ROUNDS }, batches);

const cpus: number[] = [];
const garbage: number[] = [];
let firstCpu = NaN;
for (let i = 0; i < ROUNDS; i++) {
  const result = await round(rounds[i]);
  if (i === 0) {
    firstCpu = result.cpuMicros;
    if (heapProfileFile !== undefined) await inspector!.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    if (cpuProfileFile !== undefined) {
      await inspector!.post('Profiler.setSamplingInterval', { interval: 100 });
      await inspector!.post('Profiler.enable');
      await inspector!.post('Profiler.start');
    }
    continue; // the first pays for compiling
  }
  cpus.push(result.cpuMicros);
  if (result.gcs === 0) garbage.push(result.bytes);
}
tcp.close();
const { writeFileSync } = await import('node:fs');
if (heapProfileFile !== undefined) writeFileSync(heapProfileFile, JSON.stringify((await inspector!.post('HeapProfiler.stopSampling')).profile));
if (cpuProfileFile !== undefined) writeFileSync(cpuProfileFile, JSON.stringify((await inspector!.post('Profiler.stop')).profile));
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
process.stdout.write(
  `${attack} ${alpn}: ${median(cpus).toFixed(2)} µs CPU per ${attack === 'bad-targets' ? 'bad stream' : 'reset pair'} (the first round, compiling: ${firstCpu.toFixed(2)}; median of ${cpus.length} rounds of ${FRAMES}: ${cpus.map((c) => c.toFixed(2)).join(', ')}); ` +
    `${garbage.length === 0 ? 'no round without a GC (raise --max-semi-space-size)' : `${median(garbage).toFixed(0)} B allocated each (${garbage.length} rounds without a GC)`}\n`,
);
