// spry's log: one line per event on stderr. Debug tracers are switched on by name with
// SPRY_DEBUG (comma-separated, or `*`), e.g. SPRY_DEBUG=spdy.
const enabled = new Set((process.env.SPRY_DEBUG ?? '').split(',').map((name) => name.trim()).filter(Boolean));

export function logLine(message: string): void {
  process.stderr.write(`spry: ${message}\n`);
}

/** A tracer for one subsystem: free when its name is not in SPRY_DEBUG. */
export function tracer(name: string): ((message: string) => void) | undefined {
  if (!enabled.has(name) && !enabled.has('*')) return undefined;
  return (message) => process.stderr.write(`spry:${name}: ${message}\n`);
}
