// The stats snapshot in Prometheus's text exposition format (version 0.0.4), written by hand:
// a dozen families, rendered only when scraped, so the hot path pays nothing for them. (prom-
// client's counters cost a label-key lookup per increment per request; see README.)

import { DURATION_BOUNDS, type ProtocolStats, type StatsSnapshot } from './stats.ts';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function renderMetrics(snapshot: StatsSnapshot): string {
  const out: string[] = [];
  const family = (name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  };
  const protocols = Object.entries(snapshot.protocols);
  /** A family with one sample per wire protocol. */
  const perProtocol = (name: string, type: 'counter' | 'gauge', help: string, value: (stats: ProtocolStats) => number): void => {
    family(name, type, help);
    for (const [protocol, stats] of protocols) out.push(`${name}{protocol="${label(protocol)}"} ${value(stats)}`);
  };

  family('spry_requests_total', 'counter', 'Requests answered, by wire protocol and status class.');
  for (const [protocol, stats] of protocols) {
    for (const [status, count] of Object.entries(stats.statusClasses)) out.push(`spry_requests_total{protocol="${label(protocol)}",status="${label(status)}"} ${count}`);
  }
  perProtocol('spry_connections_open', 'gauge', 'Connections open now, by wire protocol (connections, not streams).', (stats) => stats.connections);
  perProtocol('spry_connections_total', 'counter', 'Connections accepted, by wire protocol.', (stats) => stats.connectionsTotal);
  family('spry_protocol_errors_total', 'counter', 'Protocol errors by wire protocol and stable code: bad frames and sessions, refused request heads.');
  for (const [protocol, stats] of protocols) {
    for (const [code, count] of Object.entries(stats.errors)) out.push(`spry_protocol_errors_total{protocol="${label(protocol)}",code="${label(code)}"} ${count}`);
  }
  perProtocol('spry_requests_in_flight', 'gauge', 'Requests being served (open streams on SPDY and h2), by wire protocol.', (stats) => stats.inFlight);
  perProtocol('spry_upgrades_open', 'gauge', 'Upgraded connections open now (HTTP/1.1 101s, h2 extended CONNECT tunnels), by wire protocol.', (stats) => stats.upgrades);
  perProtocol('spry_upgrades_total', 'counter', 'Connections switched to another protocol (WebSocket), by wire protocol.', (stats) => stats.upgradesTotal);
  perProtocol('spry_request_body_bytes_total', 'counter', 'Request body bytes read, by wire protocol.', (stats) => stats.bytesIn);
  perProtocol('spry_response_body_bytes_total', 'counter', 'Response body bytes sent, by wire protocol.', (stats) => stats.bytesOut);
  family('spry_request_duration_seconds', 'histogram', 'Time from a request reaching the app to its response ending, by wire protocol.');
  for (const [protocol, stats] of protocols) {
    const p = label(protocol);
    DURATION_BOUNDS.forEach((bound, i) => out.push(`spry_request_duration_seconds_bucket{protocol="${p}",le="${bound}"} ${stats.durationBuckets[i]}`));
    out.push(`spry_request_duration_seconds_bucket{protocol="${p}",le="+Inf"} ${stats.durationBuckets[DURATION_BOUNDS.length]}`);
    out.push(`spry_request_duration_seconds_sum{protocol="${p}"} ${stats.durationSum}`);
    out.push(`spry_request_duration_seconds_count{protocol="${p}"} ${stats.durationBuckets[DURATION_BOUNDS.length]}`);
  }
  family('spry_pushes_total', 'counter', 'Server pushes (res.push() and the cache push planner), by outcome.');
  out.push(`spry_pushes_total{outcome="sent"} ${snapshot.pushes.sent}`, `spry_pushes_total{outcome="refused"} ${snapshot.pushes.refused}`);
  family('spry_cache_lookups_total', 'counter', 'Cache reads (apps and the push planner), by cache and result.');
  for (const [cache, lookups] of Object.entries(snapshot.caches)) {
    out.push(`spry_cache_lookups_total{cache="${label(cache)}",result="hit"} ${lookups.hits}`, `spry_cache_lookups_total{cache="${label(cache)}",result="miss"} ${lookups.misses}`);
  }
  family('spry_app_exceptions_total', 'counter', 'Requests whose app threw or rejected.');
  out.push(`spry_app_exceptions_total ${snapshot.workers.reduce((sum, w) => sum + w.exceptions, 0)}`);
  family('spry_log_lines_dropped_total', 'counter', 'Access log lines lost to a full queue or a failed write.');
  out.push(`spry_log_lines_dropped_total ${snapshot.droppedLogLines}`);
  family('spry_workers', 'gauge', 'Worker processes serving.');
  out.push(`spry_workers ${snapshot.workers.length}`);
  family('spry_worker_resident_memory_bytes', 'gauge', 'Resident set size of each worker.');
  for (const worker of snapshot.workers) out.push(`spry_worker_resident_memory_bytes{worker="${worker.id}"} ${worker.rss}`);
  if (snapshot.backends.length > 0) {
    family('spry_backend_up', 'gauge', 'Whether a --http-to backend is taking connections (1) or left alone after a failure (0).');
    for (const backend of snapshot.backends) out.push(`spry_backend_up{backend="${label(backend.label)}"} ${backend.state === 'alive' ? 1 : 0}`);
    family('spry_backend_failures_total', 'counter', 'Connections a --http-to backend refused.');
    for (const backend of snapshot.backends) out.push(`spry_backend_failures_total{backend="${label(backend.label)}"} ${backend.failures}`);
  }
  return `${out.join('\n')}\n`;
}

/** A label value escaped as the exposition format requires: backslash, quote, newline. */
function label(value: string): string {
  return value.replace(/[\\"\n]/g, (ch) => (ch === '\n' ? '\\n' : `\\${ch}`));
}
