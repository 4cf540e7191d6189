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

/** Where the next link-value starts: the first comma outside a quoted string (or the end). */
function nextLinkStart(value: string, from: number): number {
  let quoted = false;
  for (let i = from; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      return i + 1;
    }
  }
  return value.length;
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
  let quoted = false;
  let start = 0;
  for (let i = 0; i < params.length; i++) {
    const c = params[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') {
      quoted = true;
    } else if (c === ';' || c === ',') {
      parts.push(params.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(params.slice(start));
  return parts.filter((part) => part.trim() !== '');
}
