// The micro tier: `npm run bench -- --micro` (or `node bench/micro/run.ts [--quick]`). Prints
// ops/s per case after a warm-up; returns the figures for the runner's JSON file.

import { appAdapterCases } from './app-adapters.ts';
import { formatMicro, runCase, runCaseAsync, sinkValue, type MicroOptions, type MicroResult } from './harness.ts';
import { observeLineCases } from './observe-line.ts';
import { spdyCodecCases } from './spdy-codec.ts';
import { uwsgiCases } from './uwsgi-packet.ts';

export async function runMicro(quick: boolean, log: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Promise<MicroResult[]> {
  const options: MicroOptions = quick ? { warmupMs: 100, measureMs: 200 } : { warmupMs: 300, measureMs: 1000 };
  const results: MicroResult[] = [];
  const groups = [
    { title: 'SPDY codec (spdy/3.1)', cases: spdyCodecCases() },
    { title: 'uwsgi packet', cases: uwsgiCases() },
  ];
  log(`Micro benchmarks (${process.version}; ${options.warmupMs} ms warm-up, ${options.measureMs} ms measured per case)`);
  for (const group of groups) {
    log(group.title);
    for (const micro of group.cases) {
      const result = runCase(micro, options);
      results.push(result);
      log(formatMicro(result));
    }
  }
  log('app adapters (a request through the adapter to an in-memory exchange, completion awaited)');
  for (const micro of appAdapterCases()) {
    const result = await runCaseAsync(micro, options);
    results.push(result);
    log(formatMicro(result));
  }
  log('observing a request (ObservedExchange, Observer, LogWriter; a batch, then a turn of the event loop)');
  const observe = observeLineCases();
  for (const micro of observe.cases) {
    const result = await runCaseAsync(micro, options);
    results.push(result);
    log(formatMicro(result));
  }
  observe.cleanUp();
  if (Number.isNaN(sinkValue())) log('(sink)');
  return results;
}

if (import.meta.main) await runMicro(process.argv.includes('--quick'));
