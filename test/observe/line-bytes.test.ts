// The default access line written straight into the log writer's chunk is byte for byte the
// line log-format.ts builds as a string: for non-ASCII, control bytes and lone surrogates in the
// client's values, every optional part, durations toFixed rounds either way, lines that cross a
// chunk's end or are longer than a chunk, and a queue so full that lines are dropped and counted.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import type { RequestHead } from '../../src/exchange/exchange.ts';
import type { AccessRecord } from '../../src/observe/access-record.ts';
import { compileFormat } from '../../src/observe/log-format.ts';
import { LogWriter, MAX_PENDING_BYTES } from '../../src/observe/log-writer.ts';
import { tempDir } from './helpers.ts';

const dir = await tempDir();
after(() => dir.remove());

const connection = { remoteAddress: '127.0.0.1', remotePort: 50_000, localAddress: '127.0.0.1', localPort: 8443, secure: true };

function head(fields: Partial<RequestHead> = {}): RequestHead {
  return { method: 'GET', target: '/', authority: 'localhost', scheme: 'https', httpVersion: '1.1', headers: [], connection, protocol: { kind: 'spdy', version: '3.1', streamId: 1 }, hasBody: false, ...fields };
}

function record(fields: Partial<AccessRecord> = {}): AccessRecord {
  return { head: head(), status: 200, responseHeaders: undefined, headerBytes: -1, bodyBytes: 14, requestBytes: 0, startedAt: performance.now(), durationMs: 0.412, backend: undefined, cut: false, ...fields };
}

const format = compileFormat(undefined, { pid: 1, wid: 3, xForwardedFor: true });

/** The fast path's bytes for `r`, written at `at` into a buffer of `size` (-1 if they did not fit). */
function encoded(r: AccessRecord, at = 0, size = 65_536): Buffer | -1 {
  const buffer = Buffer.alloc(size, 0xaa);
  const end = format.encodeInto!(r, buffer, at, size);
  return end < 0 ? -1 : buffer.subarray(at, end);
}

const records: [string, AccessRecord][] = [
  ['a plain GET', record()],
  ['a non-ASCII path', record({ head: head({ target: '/caf\u00e9/\u20ac/\u{1f600}?q=\u00ff' }) })],
  ['control bytes, then non-ASCII, then control bytes again', record({ head: head({ method: 'G\x01T', target: '/a\tb\x7f/\u00e9\x1b[31m\x00' }) })],
  ['a lone surrogate', record({ head: head({ target: '/\ud800x\udc00' }) })],
  ['an h2 stream, forwarded, cut', record({ head: head({ protocol: { kind: 'h2', streamId: 2_147_483_647 } }), backend: 'b\u00e4ckend:8000', cut: true })],
  ['HTTP/1.1 without a stream id', record({ head: head({ protocol: { kind: 'http/1.1' } as RequestHead['protocol'] }) })],
  ['an upgrade', record({ status: 101, upgrade: 'web\u00absocket\x02', bodyBytes: 123_456_789, requestBytes: 64, durationMs: 5012.3456 })],
  ['a reset with status 0', record({ status: 0, bodyBytes: 0, durationMs: 0, reset: 'PROTOCOL_ERROR' })],
  ['an X-Forwarded-For client', record({ head: head({ headers: ['x-forwarded-for', ' 203.0.113.\u00e99\x01, 10.0.0.1'] }) })],
  ['uwsgi variables with a latin1 REMOTE_ADDR', record({ head: head({ upstreamVars: { REMOTE_ADDR: '10.0.0.\u00e9\x03', SERVER_PROTOCOL: 'HTTP/1.0' } }) })],
  ['numbers past 2^53 and negative ones', record({ status: -1, bodyBytes: 2 ** 60, upgrade: 'x', requestBytes: -1 })],
];

describe('the default line written into the chunk is the string line\'s UTF-8', () => {
  for (const [what, r] of records) {
    test(`${what}`, () => {
      assert.deepEqual(encoded(r), Buffer.from(format.line(r)));
    });
  }

  test('durations print as toFixed(3) prints them, halves and huge ones included', () => {
    const durations = [0, 0.0005, 0.0015, 0.0025, 1.0005, 2.5e-4, 123.4565, 0.9995, 999.9995, 1e-12, 2 ** 42 / 1000, 2 ** 45, 1e21, 1e22, -0.0005, -3.25, Number.NaN, Infinity, Number.MAX_VALUE, Number.MIN_VALUE];
    let seed = 7;
    for (let i = 0; i < 5_000; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      durations.push((seed / 2 ** 31) * 10 ** (i % 9), Math.round(seed % 1_000_000) / 2000);
    }
    for (const durationMs of durations) {
      const r = record({ durationMs });
      assert.equal((encoded(r) as Buffer).toString('utf8'), format.line(r), `durationMs ${durationMs}`);
    }
  });

  test('a line that does not fit before the limit is refused whole, at every limit short of its length', () => {
    const r = records[2][1];
    const bytes = Buffer.from(format.line(r));
    for (let size = 0; size < bytes.length; size++) assert.equal(encoded(r, 0, size), -1, `limit ${size}`);
    assert.deepEqual(encoded(r, 5, bytes.length + 5), bytes);
  });
});

describe('the log writer with the default line', () => {
  test('lines crossing chunk ends, and one longer than a chunk, reach the file whole and in order, as the string lines', async () => {
    const path = dir.file('chunks.log');
    const writer = new LogWriter(path, format);
    const sent: AccessRecord[] = [];
    for (let i = 0; i < 3_000; i++) sent.push(record({ head: head({ target: `/${i}/${'\u00e9'.repeat(i % 97)}${'x'.repeat(i % 31)}` }), bodyBytes: i }));
    sent.splice(1_500, 0, record({ head: head({ target: `/long/${'\u20ac'.repeat(30_000)}` }) })); // 90 KB: past a 64 KiB chunk
    for (const r of sent) writer.push(r);
    await writer.close();
    assert.equal(readFileSync(path, 'utf8'), sent.map((r) => `${format.line(r)}\n`).join(''));
    assert.equal(writer.dropped, 0);
  });

  test('past the queue\'s bound, lines are dropped whole and counted, and the file holds the others in order', async () => {
    const path = dir.file('full.log');
    const writer = new LogWriter(path, format);
    const sent: AccessRecord[] = [];
    // Pushed in one turn: no write completes, so the queue fills to its bound.
    const line = record({ head: head({ target: `/${'q'.repeat(1_000)}` }) });
    const count = Math.ceil((MAX_PENDING_BYTES * 1.5) / format.line(line).length);
    for (let i = 0; i < count; i++) sent.push(record({ ...line, bodyBytes: i }));
    for (const r of sent) writer.push(r);
    const dropped = writer.dropped;
    assert.ok(dropped > 0 && dropped < count, `dropped ${dropped} of ${count}`);
    await writer.close();
    const lines = readFileSync(path, 'utf8').split('\n').slice(0, -1);
    assert.equal(lines.length, count - dropped);
    assert.deepEqual(lines, sent.slice(0, count - dropped).map((r) => format.line(r)));
  });
});
