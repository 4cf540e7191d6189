// Writing a line's values straight into the log writer's chunk, byte by byte, with no line
// string in between: what the default line costs per request is its bytes, not the strings,
// templates and UTF-8 measuring that building a string and then copying it cost (log-format.ts
// keeps the string form, the reference these bytes must equal, for lines longer than a chunk).
// Values known to be ASCII are copied a char to a byte; a value that may hold other characters
// is copied so up to its first one, and only the rest is measured and encoded as UTF-8, as
// Buffer.from(line) would.

import { oneLine } from './one-line.ts';

export class LineBytes {
  private buffer: Buffer = Buffer.alloc(0);
  private at = 0;
  private limit = 0;
  private full = false;

  /** Starts a line at buffer[at], which must end before buffer[limit]. */
  start(buffer: Buffer, at: number, limit: number): void {
    this.buffer = buffer;
    this.at = at;
    this.limit = limit;
    this.full = false;
  }

  /** Where the line ends, or -1 when it did not fit. */
  end(): number {
    return this.full ? -1 : this.at;
  }

  /** A string known to be ASCII (fixed text, a protocol name, the time, a number's digits). */
  ascii(text: string): void {
    const length = text.length;
    if (this.full || this.at + length > this.limit) return void (this.full = true);
    const buffer = this.buffer;
    let o = this.at;
    for (let i = 0; i < length; i++) buffer[o++] = text.charCodeAt(i);
    this.at = o;
  }

  /** Any string, as it is (its UTF-8). */
  raw(text: string): void {
    this.copy(text, false);
  }

  /** Any string, its control bytes as \xNN (oneLine()'s rule: a client cannot break or forge a line). */
  escaped(text: string): void {
    this.copy(text, true);
  }

  /** A number as String(n) writes it. */
  number(n: number): void {
    if (!(n >= 0 && n <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n)) return this.ascii(String(n));
    let digits = 1;
    for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    if (this.full || this.at + digits > this.limit) return void (this.full = true);
    const buffer = this.buffer;
    let o = this.at + digits;
    this.at = o;
    let rest = n;
    do {
      buffer[--o] = 48 + (rest % 10);
      rest = Math.floor(rest / 10);
    } while (rest > 0);
  }

  /** `x.toFixed(3)`, written without the string where its digits are certain. */
  fixed3(x: number): void {
    const thousandths = exactThousandths(x);
    if (thousandths < 0) return this.ascii(x.toFixed(3));
    const whole = Math.floor(thousandths / 1000);
    const fraction = thousandths - whole * 1000;
    this.number(whole);
    if (this.full || this.at + 4 > this.limit) return void (this.full = true);
    const buffer = this.buffer;
    buffer[this.at] = 46; // .
    buffer[this.at + 1] = 48 + Math.floor(fraction / 100);
    buffer[this.at + 2] = 48 + (Math.floor(fraction / 10) % 10);
    buffer[this.at + 3] = 48 + (fraction % 10);
    this.at += 4;
  }

  private copy(text: string, escape: boolean): void {
    const length = text.length;
    if (this.full) return;
    const buffer = this.buffer;
    const limit = this.limit;
    let o = this.at;
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x20 && code < 0x7f) {
        if (o >= limit) return void (this.full = true);
        buffer[o++] = code;
      } else if (code < 0x80 && escape) {
        if (o + 4 > limit) return void (this.full = true);
        buffer[o++] = 92; // \
        buffer[o++] = 120; // x
        buffer[o++] = HEX.charCodeAt(code >> 4);
        buffer[o++] = HEX.charCodeAt(code & 15);
      } else if (code < 0x80) {
        if (o >= limit) return void (this.full = true);
        buffer[o++] = code;
      } else {
        // The rest as UTF-8, measured once (a lone surrogate is U+FFFD's 3 bytes in both).
        const rest = escape ? oneLine(text.slice(i)) : text.slice(i);
        const bytes = Buffer.byteLength(rest);
        if (o + bytes > limit) return void (this.full = true);
        buffer.write(rest, o, bytes);
        o += bytes;
        break;
      }
    }
    this.at = o;
  }
}

const HEX = '0123456789abcdef';

/**
 * The integer n that `x.toFixed(3)` prints as n / 1000, or -1 where that is not certain from
 * x * 1000 (negative, huge, or within rounding error of a half): toFixed rounds x's exact
 * value, and x * 1000 is itself rounded. Below 2^42 the product is off by less than 2^-11.
 */
function exactThousandths(x: number): number {
  const scaled = x * 1000;
  if (!(scaled >= 0 && scaled < 2 ** 42)) return -1;
  const floor = Math.floor(scaled);
  const fraction = scaled - floor;
  if (Math.abs(fraction - 0.5) < 1e-3) return -1;
  return fraction > 0.5 ? floor + 1 : floor;
}
