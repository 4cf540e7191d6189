// The access log's writer on its own: lines reach the file whole and in order, batched into
// chunks (a chunk is written when full or shortly after its first line), a line longer than a
// chunk goes out as one write of its own, and at exit whatever is queued is written at once.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import type { AccessRecord } from '../../src/observe/access-record.ts';
import type { LineFormat } from '../../src/observe/log-format.ts';
import { LogWriter } from '../../src/observe/log-writer.ts';
import { linesOf, tempDir } from './helpers.ts';

// The record is the line itself here: the writer's job starts after formatting.
const asLine: LineFormat = { line: (record: AccessRecord): string => record as unknown as string, encodeInto: undefined };
const record = (line: string): AccessRecord => line as unknown as AccessRecord;

const dir = await tempDir();
after(() => dir.remove());

test('lines pushed one by one reach the file whole and in order, with no flush asked for', async () => {
  const path = dir.file('timed.log');
  const writer = new LogWriter(path, asLine);
  const sent = Array.from({ length: 2_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 300)}`);
  for (const line of sent) writer.push(record(line));
  assert.deepEqual(await linesOf(path, sent.length), sent);
  writer.close();
});

test('a line longer than a chunk (64 KiB) is written whole, between its neighbours', async () => {
  const path = dir.file('long.log');
  const writer = new LogWriter(path, asLine);
  const long = `long ${'y'.repeat(200_000)}`;
  writer.push(record('before'));
  writer.push(record(long));
  writer.push(record('after'));
  assert.deepEqual(await linesOf(path, 3), ['before', long, 'after']);
  writer.close();
});

test('lines of multi-byte characters that fill several chunks reach the file whole, none cut at a chunk end', async () => {
  const path = dir.file('utf8.log');
  const writer = new LogWriter(path, asLine);
  // '€' is 3 bytes of UTF-8 in 1 UTF-16 unit, '😀' 4 bytes in 2: lines whose bytes outnumber their length.
  const sent = Array.from({ length: 600 }, (_, i) => `utf8 ${i} ${'€'.repeat(100 + (i % 50))}${'😀'.repeat(i % 7)}`);
  for (const line of sent) writer.push(record(line));
  // The first chunks' writes are in flight: close() lets them finish and writes the rest after.
  await writer.close();
  assert.deepEqual(readFileSync(path, 'utf8').split('\n').slice(0, -1), sent);
});

test('close() writes at once what is still queued, the chunk being filled included', () => {
  const path = dir.file('closed.log');
  const writer = new LogWriter(path, asLine);
  const sent = Array.from({ length: 3_000 }, (_, i) => `queued ${i}`);
  for (const line of sent) writer.push(record(line));
  writer.close();
  // Nothing awaited: every line is in the file when close() returns.
  assert.deepEqual(readFileSync(path, 'utf8').split('\n').slice(0, -1), sent);
  writer.push(record('after close'));
  assert.equal(writer.dropped, 1);
});
