// A raw HTTP/2 client for probes that node:http2's client would refuse to send (bad :path,
// CONNECT, odd authorities): it writes the preface, an empty SETTINGS, and HEADERS frames whose
// HPACK block is literal fields without indexing or Huffman (RFC 7541 §6.2.2), and reports what
// the server answers on each stream. Every wait is bounded.

import { connect as tlsConnect, type TLSSocket } from 'node:tls';

export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const FRAME_HEADER_BYTES = 9;
const TYPE = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, GOAWAY: 7 } as const;
const FLAG_END_STREAM = 0x1;
const FLAG_END_HEADERS = 0x4;
const FLAG_ACK = 0x1;

/** What a stream came to: a response head (its :status unread: 'response'), or a reset with its code. */
export type H2Outcome = { readonly kind: 'response' } | { readonly kind: 'reset'; readonly code: number } | { readonly kind: 'goaway'; readonly code: number };

/** A frame the server sent on a stream, as `HEADERS END_STREAM` or `DATA 12 END_STREAM` (DATA with its length). */
export type H2FrameSummary = string;
const TYPE_NAMES: Record<number, string> = { 0: 'DATA', 1: 'HEADERS', 3: 'RST_STREAM', 5: 'PUSH_PROMISE' };

export class RawH2Peer {
  private readonly socket: TLSSocket;
  private buffered = Buffer.alloc(0);
  private readonly outcomes = new Map<number, H2Outcome>();
  private readonly waiters = new Map<number, (outcome: H2Outcome) => void>();
  private goaway: H2Outcome | undefined;
  private readonly frames = new Map<number, H2FrameSummary[]>();
  private readonly endWaiters = new Map<number, () => void>();

  private constructor(socket: TLSSocket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    socket.write(Buffer.concat([H2_PREFACE, h2Frame(TYPE.SETTINGS, 0, 0, Buffer.alloc(0))]));
  }

  static connect(port: number): Promise<RawH2Peer> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, ALPNProtocols: ['h2'], rejectUnauthorized: false });
      socket.once('error', reject);
      socket.once('secureConnect', () => {
        if (socket.alpnProtocol !== 'h2') reject(new Error(`the server chose ALPN ${String(socket.alpnProtocol)}, not h2`));
        else resolve(new RawH2Peer(socket));
      });
    });
  }

  /** Sends `fields` (in order, as given: nothing checked) on `streamId` with END_STREAM. */
  request(streamId: number, fields: readonly (readonly [string, string])[]): void {
    this.socket.write(requestFrame(streamId, fields));
  }

  /** Opens each of `streamIds` with `fields` and resets it (CANCEL) at once, all in one write. */
  requestAndReset(streamIds: readonly number[], fields: readonly (readonly [string, string])[]): void {
    const cancel = Buffer.alloc(4);
    cancel.writeUInt32BE(0x8);
    this.socket.write(Buffer.concat(streamIds.flatMap((id) => [requestFrame(id, fields), h2Frame(TYPE.RST_STREAM, 0, id, cancel)])));
  }

  /** What happened to `streamId`: resolves at its response head or reset (or a GOAWAY). */
  outcome(streamId: number, timeoutMs = 3000): Promise<H2Outcome> {
    const known = this.outcomes.get(streamId) ?? this.goaway;
    if (known !== undefined) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer on h2 stream ${streamId} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.set(streamId, (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      });
    });
  }

  /** The frames the server sent on `streamId`, once it sent END_STREAM or RST_STREAM there. */
  framesToEnd(streamId: number, timeoutMs = 3000): Promise<H2FrameSummary[]> {
    if (this.isEnded(streamId)) return Promise.resolve(this.frames.get(streamId)!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`h2 stream ${streamId} did not end within ${timeoutMs} ms: ${this.frames.get(streamId)?.join(', ') ?? 'no frames'}`)), timeoutMs);
      this.endWaiters.set(streamId, () => {
        clearTimeout(timer);
        resolve(this.frames.get(streamId)!);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private isEnded(streamId: number): boolean {
    const last = this.frames.get(streamId)?.at(-1);
    return last !== undefined && (last.endsWith('END_STREAM') || last.startsWith('RST_STREAM'));
  }

  private record(type: number, flags: number, streamId: number, length: number): void {
    const name = TYPE_NAMES[type];
    if (name === undefined || streamId === 0) return;
    const summary = [name, ...(type === TYPE.DATA ? [String(length)] : []), ...((flags & FLAG_END_STREAM) !== 0 && type !== TYPE.RST_STREAM ? ['END_STREAM'] : [])].join(' ');
    const frames = this.frames.get(streamId) ?? [];
    frames.push(summary);
    this.frames.set(streamId, frames);
    if (this.isEnded(streamId)) {
      const waiter = this.endWaiters.get(streamId);
      this.endWaiters.delete(streamId);
      waiter?.();
    }
  }

  private onData(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= FRAME_HEADER_BYTES) {
      const length = this.buffered.readUIntBE(0, 3);
      if (this.buffered.length < FRAME_HEADER_BYTES + length) return;
      const type = this.buffered[3];
      const flags = this.buffered[4];
      const streamId = this.buffered.readUInt32BE(5) & 0x7fff_ffff;
      const payload = this.buffered.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length);
      this.buffered = this.buffered.subarray(FRAME_HEADER_BYTES + length);
      this.record(type, flags, streamId, length);
      if (type === TYPE.SETTINGS && (flags & FLAG_ACK) === 0) this.socket.write(h2Frame(TYPE.SETTINGS, FLAG_ACK, 0, Buffer.alloc(0)));
      else if (type === TYPE.HEADERS) this.settle(streamId, { kind: 'response' });
      else if (type === TYPE.RST_STREAM) this.settle(streamId, { kind: 'reset', code: payload.readUInt32BE(0) });
      else if (type === TYPE.GOAWAY) {
        this.goaway = { kind: 'goaway', code: payload.readUInt32BE(4) };
        for (const [id] of this.waiters) this.settle(id, this.goaway);
      }
    }
  }

  private settle(streamId: number, outcome: H2Outcome): void {
    if (this.outcomes.has(streamId)) return;
    this.outcomes.set(streamId, outcome);
    const waiter = this.waiters.get(streamId);
    this.waiters.delete(streamId);
    waiter?.(outcome);
  }
}

function requestFrame(streamId: number, fields: readonly (readonly [string, string])[]): Buffer {
  const block = Buffer.concat(fields.map(([name, value]) => h2Literal(name, value)));
  return h2Frame(TYPE.HEADERS, FLAG_END_STREAM | FLAG_END_HEADERS, streamId, block);
}

/** One HTTP/2 frame (RFC 9113 §4.1). */
export function h2Frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** A literal header field without indexing, new name, raw strings (RFC 7541 §6.2.2). */
export function h2Literal(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0]), hpackString(name), hpackString(value)]);
}

function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  return Buffer.concat([hpackInteger(bytes.length, 7), bytes]);
}

/** An HPACK integer with an N-bit prefix (RFC 7541 §5.1), the H bit clear. */
function hpackInteger(n: number, prefixBits: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (n < max) return Buffer.from([n]);
  const out = [max];
  n -= max;
  while (n >= 128) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}
