import type { FlatHeaders } from './exchange.ts';

/** The value of the first header named `name` (lower case), if any. */
export function headerValue(headers: FlatHeaders, name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}
