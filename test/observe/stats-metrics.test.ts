// The stats server (uWSGI's JSON document, raw and over HTTP) and /metrics: their numbers are
// the requests made, in one process and summed over a master's workers; promtool accepts the
// metrics and Debian's prometheus scrapes them. Also: -p 4 workers under load write whole lines.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { connectClient } from '../helpers/protocol-clients.ts';
import { startSpry, TEST_APP_ARGS } from '../helpers/spry-process.ts';
import { PROMETHEUS, PROMTOOL } from '../tools/tools.ts';
import { freePort, plainRequest } from '../uwsgi/helpers.ts';
import { linesOf, promtoolCheck, readStats, tempDir, type StatsDoc } from './helpers.ts';


describe('the stats server counts the requests made', () => {
  test('one process: requests by protocol and status class, and the worker\'s total', async () => {
    const statsPort = await freePort();
    const spry = await startSpry(['--https2', 'addr=127.0.0.1:0,spdy=1', ...TEST_APP_ARGS, '--disable-logging', '--stats', `127.0.0.1:${statsPort}`]);
    try {
      for (const protocol of ['h2', 'spdy/3.1'] as const) {
        const client = await connectClient(protocol, spry.listener('https'));
        for (let i = 0; i < 3; i++) await client.request({ path: '/status/200' });
        await client.request({ path: '/status/503' });
        await client.close();
      }
      const stats = await readStats(statsPort);
      assert.equal(stats.pid, spry.child.pid);
      assert.equal(stats.workers[0].requests, 8);
      assert.deepEqual(stats.protocols.h2.statusClasses, { '2xx': 3, '5xx': 1 });
      assert.deepEqual(stats.protocols['spdy/3.1'].statusClasses, { '2xx': 3, '5xx': 1 });
    } finally {
      await spry.stop();
    }
  });

  test('a master with 3 workers: --stats-http sums every worker, and lists each', async () => {
    const statsPort = await freePort();
    const spry = await startSpry(['--http', '127.0.0.1:0', ...TEST_APP_ARGS, '-p', '3', '--disable-logging', '--stats', `127.0.0.1:${statsPort}`, '--stats-http']);
    try {
      const port = spry.listener('http').port;
      await Promise.all(Array.from({ length: 30 }, () => plainRequest(port, '/status/200', { headers: { connection: 'close' } })));
      const response = await plainRequest(statsPort, '/');
      const stats = JSON.parse(response.body.toString('utf8')) as StatsDoc;
      assert.equal(stats.workers.length, 3);
      assert.deepEqual(stats.workers.map((w) => w.id), [1, 2, 3]);
      assert.equal(stats.workers.reduce((sum, w) => sum + w.requests, 0), 30);
      assert.equal(stats.protocols['http/1.1'].requests, 30);
    } finally {
      await spry.stop();
    }
  });
});

describe('Prometheus metrics', () => {
  test('promtool check metrics accepts /metrics, whose counters are the requests made', { skip: PROMTOOL.skip }, async () => {
    const metricsPort = await freePort();
    const spry = await startSpry(['--http', '127.0.0.1:0', ...TEST_APP_ARGS, '--disable-logging', '--metrics', `127.0.0.1:${metricsPort}`]);
    try {
      for (let i = 0; i < 4; i++) await plainRequest(spry.listener('http').port, '/status/404');
      const text = (await plainRequest(metricsPort, '/metrics')).body.toString('utf8');
      assert.match(text, /^spry_requests_total\{protocol="http\/1\.1",status="4xx"\} 4$/m);
      assert.match(text, /^spry_request_duration_seconds_count\{protocol="http\/1\.1"\} 4$/m);
      const check = await promtoolCheck(PROMTOOL.path!, text);
      assert.equal(check.code, 0, check.output);
      assert.equal(check.output.trim(), '');
    } finally {
      await spry.stop();
    }
  });

  test('Debian\'s prometheus server scrapes spry and reports the target up', { skip: PROMETHEUS.skip, timeout: 60_000 }, async () => {
    const dir = await tempDir();
    const metricsPort = await freePort();
    const promPort = await freePort();
    const spry = await startSpry(['--http', '127.0.0.1:0', ...TEST_APP_ARGS, '--disable-logging', '--metrics', `127.0.0.1:${metricsPort}`]);
    await writeFile(dir.file('prometheus.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: spry\n    static_configs:\n      - targets: ['127.0.0.1:${metricsPort}']\n`);
    const prometheus = spawn(PROMETHEUS.path!, [`--config.file=${dir.file('prometheus.yml')}`, `--storage.tsdb.path=${dir.file('data')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: 'ignore' });
    try {
      let health = '';
      const until = Date.now() + 45_000;
      while (health !== 'up' && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        const targets = await plainRequest(promPort, '/api/v1/targets').catch(() => undefined);
        if (targets?.status !== 200) continue;
        const parsed = JSON.parse(targets.body.toString('utf8')) as { data: { activeTargets: { health: string; lastError: string }[] } };
        health = parsed.data.activeTargets[0]?.health ?? '';
      }
      assert.equal(health, 'up');
    } finally {
      prometheus.kill('SIGKILL');
      await spry.stop();
      await dir.remove();
    }
  });
});

describe('-p 4 workers under load', () => {
  test('write whole lines to one file: none broken or interleaved, one per request', async () => {
    const dir = await tempDir();
    const spry = await startSpry(['--https2', 'addr=127.0.0.1:0', ...TEST_APP_ARGS, '-p', '4', '--logto', dir.file('load.log'), '--log-format', 'json']);
    try {
      const clients = await Promise.all(Array.from({ length: 8 }, () => connectClient('h2', spry.listener('https'))));
      const total = 8 * 250;
      await Promise.all(clients.map(async (client, c) => {
        for (let batch = 0; batch < 25; batch++) {
          await Promise.all(Array.from({ length: 10 }, (_, i) => client.request({ path: `/bytes?n=${(c * 250 + batch * 10 + i) % 500}` })));
        }
        await client.close();
      }));
      const lines = await linesOf(dir.file('load.log'), total);
      assert.equal(lines.length, total);
      const parsed = lines.map((line) => JSON.parse(line) as { uri: string; rsize: number; wid: number });
      assert.ok(parsed.every((line) => `/bytes?n=${line.rsize}` === line.uri));
      assert.ok(new Set(parsed.map((line) => line.wid)).size > 1, 'more than one worker served');
    } finally {
      await spry.stop();
      await dir.remove();
    }
  });
});

