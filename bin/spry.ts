#!/usr/bin/env node
// spry: argv in, exit status out. A master forks this same file as its workers (SPRY_WORKER=1).
import { main } from '../src/cli/main.ts';
import { runWorker } from '../src/master/worker.ts';

if (process.env.SPRY_WORKER === '1') runWorker();
else process.exitCode = await main(process.argv.slice(2));
