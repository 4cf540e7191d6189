// What keeps a client's values from breaking or forging an access line: control bytes as \xNN.

/** `text` with its control bytes (0x00-0x1f, 0x7f) as \xNN; `text` itself when it has none. */
export function oneLine(text: string): string {
  // A charCode loop: no RegExp object per call on the common path (a value with nothing to escape).
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // eslint-disable-next-line no-control-regex
    if (code < 0x20 || code === 0x7f) return text.replace(/[\x00-\x1f\x7f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  }
  return text;
}
