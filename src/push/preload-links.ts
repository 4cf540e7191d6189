// Which resources a response asks the client to preload: the targets of its `Link` header
// values with rel=preload (RFC 8288 syntax; W3C Preload), minus those marked `nopush` (the
// convention nginx, h2o and Apache share for "preload, but do not push").

/** The URL references of every `rel=preload` link without `nopush`, in order. */
export function preloadTargets(linkValues: readonly string[]): string[] {
  const targets: string[] = [];
  for (const value of linkValues) {
    let at = 0;
    while (at < value.length) {
      const open = value.indexOf('<', at);
      if (open === -1) break;
      const close = value.indexOf('>', open + 1);
      if (close === -1) break;
      const target = value.slice(open + 1, close).trim();
      const end = nextLinkStart(value, close + 1);
      if (isPushablePreload(value.slice(close + 1, end))) targets.push(target);
      at = end;
    }
  }
  return targets;
}

/** Where the next link-value starts: after the first comma outside a quoted string (or the end). */
function nextLinkStart(value: string, from: number): number {
  return Math.min(nextUnquoted(value, from, ',') + 1, value.length);
}

/** `; rel=preload; as=style` → true; `; rel="preload nopush"` or `; rel=preload; nopush` → false. */
function isPushablePreload(params: string): boolean {
  let preload = false;
  for (const param of splitParams(params)) {
    const equals = param.indexOf('=');
    const name = (equals === -1 ? param : param.slice(0, equals)).trim().toLowerCase();
    if (name === 'nopush') return false;
    if (name !== 'rel' || equals === -1) continue;
    let relValue = param.slice(equals + 1).trim();
    if (relValue.startsWith('"') && relValue.endsWith('"') && relValue.length >= 2) relValue = relValue.slice(1, -1);
    const rels = relValue.toLowerCase().split(/\s+/);
    if (rels.includes('nopush')) return false;
    if (rels.includes('preload')) preload = true;
  }
  return preload;
}

function splitParams(params: string): string[] {
  const parts: string[] = [];
  for (let start = 0; start <= params.length; ) {
    const end = nextUnquoted(params, start, ';,');
    parts.push(params.slice(start, end));
    start = end + 1;
  }
  return parts.filter((part) => part.trim() !== '');
}

/** The index of the first of `stops` at or after `from` outside a quoted string, or the length. */
function nextUnquoted(text: string, from: number, stops: string): number {
  let quoted = false;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') {
      quoted = true;
    } else if (stops.includes(c)) {
      return i;
    }
  }
  return text.length;
}
