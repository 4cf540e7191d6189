// What a scenario hands back, and how the runner prints it: one block per scenario (a row per
// server with its absolute figures, then each ratio with its target and a pass/miss marker),
// then a summary of every ratio. Targets are markers, never assertions: the bench always runs
// to the end.

export interface Target {
  /** `min`: the ratio should be at least `value`; `max`: at most. */
  readonly kind: 'min' | 'max';
  readonly value: number;
}

export interface Ratio {
  readonly label: string;
  readonly value: number;
  readonly target?: Target;
}

export interface Row {
  readonly server: string;
  /** The headline figure, formatted (e.g. "9,060 req/s"). */
  readonly headline: string;
  /** Secondary figures, formatted (latency, CPU, …). */
  readonly details: string;
  /** The unformatted figures, for the JSON file. */
  readonly figures: object;
}

export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  /** Connections, streams, durations: how the load was shaped. */
  readonly shape: string;
  readonly rows: readonly Row[];
  readonly ratios: readonly Ratio[];
  readonly notes: readonly string[];
}

export interface ScenarioFailure {
  readonly id: string;
  readonly title: string;
  readonly error: string;
}

export function verdict(ratio: Ratio): 'PASS' | 'MISS' | '' {
  if (ratio.target === undefined || !Number.isFinite(ratio.value)) return '';
  const ok = ratio.target.kind === 'min' ? ratio.value >= ratio.target.value : ratio.value <= ratio.target.value;
  return ok ? 'PASS' : 'MISS';
}

export function targetText(target: Target | undefined): string {
  if (target === undefined) return '—';
  return `${target.kind === 'min' ? '≥' : '≤'} ${formatRatio(target.value)}`;
}

export function formatRatio(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value >= 10 ? `${value.toFixed(1)}x` : `${value.toFixed(2)}x`;
}

export function formatRate(requestsPerSecond: number): string {
  return `${Math.round(requestsPerSecond).toLocaleString('en-US')} req/s`;
}

export function formatBytesPerSecond(bytesPerSecond: number): string {
  return `${(bytesPerSecond / 2 ** 20).toFixed(1)} MiB/s`;
}

export function formatBytes(bytes: number): string {
  if (Math.abs(bytes) >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

export function formatLatency(latency: { p50: number; p90: number; p99: number; max: number }): string {
  const ms = (value: number): string => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
  return `p50 ${ms(latency.p50)} / p90 ${ms(latency.p90)} / p99 ${ms(latency.p99)} / max ${ms(latency.max)} ms`;
}

export function formatScenario(result: ScenarioResult): string {
  const lines = [`${result.id}. ${result.title}`, `   ${result.shape}`];
  const width = Math.max(...result.rows.map((row) => row.server.length), 10);
  const headlineWidth = Math.max(...result.rows.map((row) => row.headline.length), 10);
  for (const row of result.rows) lines.push(`   ${row.server.padEnd(width)}  ${row.headline.padStart(headlineWidth)}  ${row.details}`);
  for (const ratio of result.ratios) {
    const target = ratio.target === undefined ? '(no target)' : `(target ${targetText(ratio.target)})  ${verdict(ratio)}`;
    lines.push(`   → ${ratio.label}: ${formatRatio(ratio.value)}  ${target}`);
  }
  for (const note of result.notes) lines.push(`   note: ${note}`);
  return lines.join('\n');
}

export function formatSummary(results: readonly ScenarioResult[], failures: readonly ScenarioFailure[]): string {
  const rows = results.flatMap((result) => result.ratios.map((ratio) => ({ id: result.id, ratio })));
  const labelWidth = Math.max(...rows.map((row) => row.ratio.label.length), 20);
  const lines = ['Summary (ratios measured in this run)', `   #  ${'ratio'.padEnd(labelWidth)}  ${'value'.padStart(7)}  ${'target'.padEnd(9)}  verdict`];
  for (const { id, ratio } of rows) {
    lines.push(`   ${id.padStart(1)}  ${ratio.label.padEnd(labelWidth)}  ${formatRatio(ratio.value).padStart(7)}  ${targetText(ratio.target).padEnd(9)}  ${verdict(ratio)}`);
  }
  for (const failure of failures) lines.push(`   ${failure.id}  ${failure.title}: FAILED (${failure.error.split('\n')[0]})`);
  return lines.join('\n');
}
