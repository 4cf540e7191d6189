// Scenario 6: forwarding. Three groups, each measured side by side (A, B, C, A, B, C, …), every
// server one process, driven by the same h2load --h1 (plain HTTP, keep-alive) with the same
// request count:
//   - uwsgi over TCP and over a unix socket: one uWSGI process runs a WSGI hello app on both
//     sockets; in front of it spry (`--http … --http-to …`), uWSGI's own HTTP router (`uwsgi
//     --master --plugin http --http … --http-to …`: its router is one gateway process), and two
//     floors: the least a Node process can do per request (node:http server, connect, one write,
//     read to the end, close; servers/node-uwsgi-forwarder.ts) on a net.Socket and on the bare
//     handle spry uses.
//   - HTTP/1.1 backends (keep-alive): the hello handler on node:http; in front of it spry
//     (`--http-to http://…`) and a bare Node proxy (http.request through a keep-alive agent,
//     piped; servers/node-http-proxy.ts).
// Then the backend connections alone, without HTTP (load/uwsgi-connect-loop.ts), and h2load's
// ceiling against a canned HTTP server. The target: spry at least 0.8x the peer's
// requests/s in each group. The box is shared, so each run also gives the router's CPU per
// request (utime + stime from /proc over the measured requests), the steadier figure.

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { best, loadRow, measureSideBySide, median, microsPerRequest, type Contender, type ScenarioContext } from '../lib/context.ts';
import { runH2load, type LoadFigures } from '../lib/load-runs.ts';
import { profileNotes, profileSpry } from '../lib/profile.ts';
import type { Ratio, Row, ScenarioResult } from '../lib/report.ts';
import { runToCompletion } from '../lib/processes.ts';
import { BENCH, LOOPBACK, NODE, ROOT, startPlainScript, startSpry, startUwsgiBackend, startUwsgiRouter, type RunningServer } from '../lib/servers.ts';

const CONNECTIONS = 50;
const TARGET = { kind: 'min', value: 0.8 } as const;

interface Group {
  readonly label: string;
  /** The first is spry, the second its peer; any further one is for reference. */
  readonly contenders: readonly Contender<LoadFigures>[];
}

export async function forwarding(context: ScenarioContext): Promise<ScenarioResult> {
  const { plan } = context;
  const requests = plan.quick ? 10_000 : 20_000;
  const warmup = plan.quick ? 2_000 : 3_000;
  // Ten contenders: three rounds, not the plan's four, keep the scenario near three minutes.
  const repeats = 3;
  const load = async (server: RunningServer): Promise<LoadFigures> => {
    const shape = { url: `${server.origin}/`, h1: true, connections: CONNECTIONS, streams: 1, durationSeconds: 0, warmupSeconds: 0 };
    await runH2load(server, { ...shape, requests: warmup });
    return runH2load(server, { ...shape, requests });
  };
  const unixPath = join(tmpdir(), `spry-bench-uwsgi-${process.pid}.sock`);
  const backend = await startUwsgiBackend(unixPath);
  const httpBackend = await startPlainScript('node:http backend', 'node-http.ts', ['0']);
  const tcp = `${LOOPBACK}:${backend.port}`;
  const spryTo = (target: string) => () => startSpry({ args: ['--http', `${LOOPBACK}:0`, '--http-to', target, '--disable-logging'] });
  const uwsgiGroup = (label: string, target: string): Group => ({
    label,
    contenders: [
      { name: `spry --http-to (${label})`, start: spryTo(target), measure: load },
      { name: `uWSGI http router (${label})`, start: () => startUwsgiRouter(target), measure: load },
      { name: `Node floor, net.Socket (${label})`, start: () => startPlainScript('node uwsgi floor', 'node-uwsgi-forwarder.ts', [target, 'net']), measure: load },
      { name: `Node floor, bare handle (${label})`, start: () => startPlainScript('node uwsgi floor', 'node-uwsgi-forwarder.ts', [target, 'handle']), measure: load },
    ],
  });
  const groups: Group[] = [
    uwsgiGroup('uwsgi over TCP', tcp),
    uwsgiGroup('uwsgi over unix', unixPath),
    {
      label: 'HTTP backend',
      contenders: [
        { name: 'spry --http-to http:// (keep-alive)', start: spryTo(`http://${LOOPBACK}:${httpBackend.port}`), measure: load },
        { name: 'bare Node proxy (http.request, keep-alive agent)', start: () => startPlainScript('node http proxy', 'node-http-proxy.ts', [String(httpBackend.port)]), measure: load },
      ],
    },
  ];
  const rows: Row[] = [];
  const ratios: Ratio[] = [];
  const rate = (run: LoadFigures): number => run.requestsPerSecond;
  try {
    for (const group of groups) {
      const runs = await measureSideBySide(context, group.contenders, repeats);
      const bests = runs.map((each) => best(each, rate));
      const cpu = runs.map((each) => median(each.map(microsPerRequest)));
      group.contenders.forEach((contender, i) => rows.push(cpuRow(contender.name, bests[i], runs[i], cpu[i])));
      const peer = group.contenders[1].name.replace(/ \(.*/, '');
      ratios.push({ label: `${group.label}: req/s, spry ÷ ${peer}`, value: rate(bests[0]) / rate(bests[1]), target: TARGET });
      ratios.push({ label: `${group.label}: CPU per request, ${peer} ÷ spry`, value: cpu[1] / cpu[0] });
      // The bare-handle floor (the last contender) is the least a node:http router can cost.
      if (runs.length > 2) {
        const floor = cpu[runs.length - 1];
        ratios.push({ label: `${group.label}: CPU per request, Node floor (node:http + bare handle) ÷ spry`, value: floor / cpu[0] });
        ratios.push({ label: `${group.label}: CPU per request, ${peer} ÷ Node floor (the most a node:http router reaches)`, value: cpu[1] / floor });
      }
    }
    rows.push(...(await connectLoopRows(context, [['uwsgi over TCP', tcp], ['uwsgi over unix', unixPath]], requests, repeats)));
    const [ceilingRuns] = await measureSideBySide(context, [{ name: 'h2load ceiling (canned HTTP server)', start: () => startPlainScript('canned http', 'canned-http.ts', []), measure: load }], 1);
    rows.push(cpuRow('h2load ceiling (canned HTTP server, no backend)', ceilingRuns[0], ceilingRuns, microsPerRequest(ceilingRuns[0])));
    const notes = [
      'Processes: spry 1 (no workers, --disable-logging); uWSGI router: --master and its one http gateway process (all counted); Node floor 1; bare Node proxy 1; backends: uWSGI 1 process (python3, both sockets), node:http 1.',
      'CPU per request: the router process’s (group’s) utime + stime over the measured requests ÷ requests that succeeded, median of the rounds; the backend is not counted. Router, backend and h2load share the cores: req/s says as much about who got the CPU as about the router, CPU per request about the router alone.',
      'h2load’s ceiling: what it reaches against a server that does nothing; a row near it was paced by the generator, not the server.',
      ...(plan.profile ? profileNotes(await profileSpry(context, 'scenario-6-forwarding', load, { args: ['--http', `${LOOPBACK}:0`, '--http-to', tcp, '--disable-logging'] })) : []),
    ];
    return {
      id: '6',
      title: 'Forwarding (h2load --h1, plain HTTP): spry --http-to vs uWSGI http router (uwsgi, TCP and unix) and vs a bare Node proxy (HTTP)',
      shape: `${CONNECTIONS} keep-alive connections, GET /, ${warmup.toLocaleString('en-US')} requests of warm-up then ${requests.toLocaleString('en-US')} measured per run, ${repeats} alternating rounds per group; req/s is the best run, CPU per request the median`,
      rows,
      ratios,
      notes,
    };
  } finally {
    await Promise.all([backend.process.stop(), httpBackend.process.stop()]);
    rmSync(unixPath, { force: true });
  }
}

interface LoopFigures {
  readonly userMicros: number;
  readonly systemMicros: number;
  readonly requestsPerSecond: number;
}

/** Node's cost of the backend connections alone (load/uwsgi-connect-loop.ts), net.Socket and bare handle, alternating. */
async function connectLoopRows(context: ScenarioContext, targets: readonly (readonly [string, string])[], requests: number, repeats: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [label, target] of targets) {
    const runs: Record<string, LoopFigures[]> = { net: [], handle: [] };
    for (let round = 0; round < repeats; round++) {
      for (const mode of ['net', 'handle']) {
        context.log(`connect loop, ${mode} (${label}): run ${round + 1}/${repeats}`);
        const { code, stdout, stderr } = await runToCompletion('uwsgi-connect-loop', NODE, [join(BENCH, 'load/uwsgi-connect-loop.ts'), mode, target, String(requests), String(CONNECTIONS)], 120_000, { cwd: ROOT });
        if (code !== 0) throw new Error(`uwsgi-connect-loop exited ${code}: ${stderr.slice(-500)}`);
        runs[mode].push(JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as LoopFigures);
      }
    }
    for (const [mode, name] of [['net', 'net.Socket'], ['handle', 'bare handle']] as const) {
      const total = (run: LoopFigures): number => run.userMicros + run.systemMicros;
      const middle = [...runs[mode]].sort((a, b) => total(a) - total(b))[runs[mode].length >> 1];
      rows.push({
        server: `connect+write+read+close loop, ${name}, no HTTP (${label})`,
        headline: `${Math.round(middle.requestsPerSecond).toLocaleString('en-US')} conn/s`,
        details: `CPU ${total(middle).toFixed(1)} µs/request (user ${middle.userMicros.toFixed(1)}, system ${middle.systemMicros.toFixed(1)}; runs: ${runs[mode].map((run) => total(run).toFixed(1)).join(', ')})`,
        figures: { runs: runs[mode] },
      });
    }
  }
  return rows;
}

function cpuRow(name: string, figures: LoadFigures, runs: readonly LoadFigures[], cpuMicros: number): Row {
  const row = loadRow(name, figures, runs);
  return { ...row, details: `${row.details}; CPU ${cpuMicros.toFixed(1)} µs/request (runs: ${runs.map((run) => microsPerRequest(run).toFixed(1)).join(', ')})` };
}
