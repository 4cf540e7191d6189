// A small micro-benchmark harness: each case is warmed up (so V8 has optimised it), then run in
// batches sized to ~10 ms until the time budget is spent; ops/s counts `opsPerCall` per call.
// Each call's result feeds a sink, so the work cannot be optimised away.

export interface MicroCase {
  readonly name: string;
  /** One call; return something derived from the work. */
  readonly fn: () => unknown;
  /** Operations one call performs (frames decoded, blocks inflated, …). */
  readonly opsPerCall?: number;
  /** Bytes one call processes, to print a throughput too. */
  readonly bytesPerCall?: number;
}

/** A case whose work completes asynchronously (it resolves when one call's work is done). */
export interface AsyncMicroCase extends Omit<MicroCase, 'fn'> {
  readonly fn: () => Promise<unknown>;
}

export interface MicroResult {
  readonly name: string;
  readonly opsPerSecond: number;
  readonly nsPerOp: number;
  readonly bytesPerSecond?: number;
}

export interface MicroOptions {
  readonly warmupMs: number;
  readonly measureMs: number;
}

const BATCH_TARGET_MS = 10;
let sink = 0;

function consume(value: unknown): void {
  if (typeof value === 'number') sink += value;
  else if (value !== undefined && value !== null) sink += 1;
}

export function runCase(micro: MicroCase, options: MicroOptions): MicroResult {
  // Warm-up, also finding a batch size that takes about BATCH_TARGET_MS.
  let batch = 1;
  const warmupEnd = performance.now() + options.warmupMs;
  while (performance.now() < warmupEnd) {
    const started = performance.now();
    for (let i = 0; i < batch; i++) consume(micro.fn());
    if (performance.now() - started < BATCH_TARGET_MS) batch *= 2;
  }
  let calls = 0;
  const started = performance.now();
  const end = started + options.measureMs;
  while (performance.now() < end) {
    for (let i = 0; i < batch; i++) consume(micro.fn());
    calls += batch;
  }
  const seconds = (performance.now() - started) / 1000;
  const ops = calls * (micro.opsPerCall ?? 1);
  return {
    name: micro.name,
    opsPerSecond: ops / seconds,
    nsPerOp: (seconds * 1e9) / ops,
    ...(micro.bytesPerCall === undefined ? {} : { bytesPerSecond: (calls * micro.bytesPerCall) / seconds }),
  };
}

/** runCase for work that completes asynchronously: one call at a time, awaited. */
export async function runCaseAsync(micro: AsyncMicroCase, options: MicroOptions): Promise<MicroResult> {
  const warmupEnd = performance.now() + options.warmupMs;
  while (performance.now() < warmupEnd) consume(await micro.fn());
  let calls = 0;
  const started = performance.now();
  const end = started + options.measureMs;
  while (performance.now() < end) {
    consume(await micro.fn());
    calls++;
  }
  const seconds = (performance.now() - started) / 1000;
  const ops = calls * (micro.opsPerCall ?? 1);
  return { name: micro.name, opsPerSecond: ops / seconds, nsPerOp: (seconds * 1e9) / ops };
}

export function formatMicro(result: MicroResult): string {
  const ops = Math.round(result.opsPerSecond).toLocaleString('en-US').padStart(13);
  const ns = result.nsPerOp.toFixed(result.nsPerOp < 100 ? 1 : 0).padStart(8);
  const bytes = result.bytesPerSecond === undefined ? '' : `  ${(result.bytesPerSecond / 2 ** 20).toFixed(0)} MiB/s`;
  return `  ${result.name.padEnd(52)} ${ops} ops/s ${ns} ns/op${bytes}`;
}

/** Keeps the sink observable (never printed unless something is badly wrong). */
export function sinkValue(): number {
  return sink;
}
