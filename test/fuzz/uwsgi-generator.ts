// The uwsgi front end's fuzz source (--socket: src/uwsgi/packet.ts, front-end.ts, exchange.ts):
// seeded, reproducible request packets as a hostile router would send them. The vars block holds
// the variables nginx and uWSGI send, and others: keys that are Object.prototype's names, empty,
// long or binary, values with CR, LF or NUL, CONTENT_LENGTH that is not a length, protocol
// markers (SPDY, HTTP2) with odd values; then mutations of the block (key and value lengths that
// run past it, a datasize that lies, a cut), and a body shorter than, longer than or exactly
// CONTENT_LENGTH. The connection then ends its side, stays open, or is cut mid-packet.

import { encodeUwsgiRequest, MAX_VARS_BYTES, UWSGI_HEADER_BYTES } from '../../src/uwsgi/packet.ts';
import { Dice } from './dice.ts';

const TARGETS = ['/', '/bytes?n=10', '/bytes?n=70000', '/headers.json', '/environ.json', '/status/204', '/status/404', '/upload?format=json', '/slow?ms=5', '/nope', '//', '//x/headers.json'];
const BAD_TARGETS = ['http://x/', 'x', '/a b', '/a\x7fb', '/a\xffb', '*', '/a\r\nb', '/\0'];
const METHODS = ['GET', 'GET', 'HEAD', 'POST', 'PUT', 'OPTIONS', 'get', 'G T', '', 'CONNECT', 'X\r\n'];
const LENGTHS = ['0', '10', '100', '70000', 'x', '-1', '1e3', ' 10', '', '0x10', 'Infinity', 'NaN', '99999999999999999999', '10,10'];
/** Keys a plain object would find on its prototype, and others a router would never send. */
const ODD_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '', 'HTTP_', 'HTTP__', 'HTTP_X Y', 'HTTP_A\r\nB', 'HTTP_\0', 'HTTP_CONTENT_LENGTH', 'HTTP_TRANSFER_ENCODING', 'HTTP_HOST', 'SPDY', 'SPDY.version', 'SPDY.stream', 'HTTP2', 'HTTP2.stream', 'HTTPS', 'UWSGI_SCHEME', 'SERVER_PROTOCOL', 'REMOTE_PORT', 'SERVER_PORT', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'x'.repeat(300)];
const ODD_VALUES = ['', 'on', '1', '3', '3.1', '2', '9', '-1', 'NaN', 'a\r\nb', 'a\0b', '\xff\xfe', 'HTTP/1.0', 'HTTP/9.9', '/', '../..', 'https', 'x'.repeat(8000)];
/** How the client ends the connection. */
export type UwsgiEnding = 'end' | 'hold' | 'cut';

export interface UwsgiConnectionPlan {
  readonly chunks: Buffer[];
  readonly ending: UwsgiEnding;
  /** Yield to the event loop after every this many chunks. */
  readonly pauseEvery: number;
  /** The packet is whole and well-formed as far as the generator knows: it must be answered with a status line. */
  readonly mustAnswer: boolean;
}

export class UwsgiPacketGenerator {
  private readonly dice: Dice;

  constructor(seed: number) {
    this.dice = new Dice(seed);
  }

  connection(): UwsgiConnectionPlan {
    const { dice } = this;
    const vars = this.vars();
    let packet: Buffer;
    try {
      packet = encodeUwsgiRequest(vars, dice.chance(0.95) ? 0 : dice.int(256), dice.chance(0.95) ? 0 : dice.int(256));
    } catch {
      packet = encodeUwsgiRequest({ REQUEST_METHOD: 'GET', REQUEST_URI: '/', HTTP_HOST: 'localhost' }); // past 64 KiB: spry would never build it either
    }
    const mutated = dice.chance(0.3);
    if (mutated) packet = this.mutate(packet);
    // Only a length in digits is one the generator holds spry to; others it may refuse or wait on.
    const canonical = vars.CONTENT_LENGTH === undefined || /^\d{1,6}$/.test(vars.CONTENT_LENGTH);
    const wanted = canonical ? Number(vars.CONTENT_LENGTH ?? 0) : 0;
    const bodyForm = dice.pick(['exact', 'exact', 'short', 'long', 'none'] as const);
    const bodyBytes = bodyForm === 'exact' ? wanted : bodyForm === 'short' ? dice.int(Math.max(1, wanted)) : bodyForm === 'long' ? wanted + 1 + dice.int(2000) : 0;
    const bytes = Buffer.concat([packet, Buffer.alloc(bodyBytes, 0x63), ...(dice.chance(0.05) ? [encodeUwsgiRequest({ REQUEST_METHOD: 'GET', REQUEST_URI: '/' })] : [])]);
    const ending = dice.pick<UwsgiEnding>(['end', 'end', 'hold', 'cut']);
    const chunks = dice.split(bytes);
    if (ending === 'cut') chunks.splice(Math.max(1, dice.int(chunks.length)));
    const pauseEvery = dice.chance(0.1) ? 1 : 8;
    const bodyWhole = bodyForm === 'exact' || bodyForm === 'long' || wanted === 0;
    // (A router that ends its side after the packet gets an answer only if the app answers before
    // spry reads the end: the --socket listener is not half-open. So only 'hold' must be answered.)
    return { chunks, ending, pauseEvery, mustAnswer: !mutated && canonical && ending === 'hold' && bodyWhole };
  }

  /** The variables: a request nginx could send, then changes and additions. */
  private vars(): Record<string, string> {
    const { dice } = this;
    const target = dice.chance(0.9) ? dice.pick(TARGETS) : dice.pick(BAD_TARGETS);
    const [path, query = ''] = target.split('?');
    const method = target.startsWith('/upload') ? dice.pick(['POST', 'PUT', 'GET']) : dice.chance(0.9) ? 'GET' : dice.pick(METHODS);
    const vars: Record<string, string> = {
      REQUEST_METHOD: method,
      REQUEST_URI: target,
      PATH_INFO: path,
      QUERY_STRING: query,
      SERVER_PROTOCOL: 'HTTP/1.1',
      HTTP_HOST: dice.chance(0.95) ? 'localhost' : dice.pick(['a b', 'u@x', '', '[::1]:1', 'x:y:z']),
      SERVER_NAME: 'localhost',
      SERVER_PORT: '80',
      REMOTE_ADDR: '127.0.0.1',
      REMOTE_PORT: String(dice.int(65536)),
    };
    if (method === 'POST' || method === 'PUT' || dice.chance(0.1)) vars.CONTENT_LENGTH = dice.chance(0.7) ? String(dice.pick([0, 1, 10, 1000, 20_000])) : dice.pick(LENGTHS);
    if (dice.chance(0.1)) delete vars[dice.pick(Object.keys(vars))]; // a usual variable missing
    if (dice.chance(0.1)) vars.REQUEST_URI = ''; // the target from SCRIPT_NAME, PATH_INFO and QUERY_STRING
    for (let i = dice.chance(0.5) ? 0 : 1 + dice.int(4); i > 0; i--) vars[dice.pick(ODD_KEYS)] = dice.pick(ODD_VALUES);
    if (dice.chance(0.1)) for (let i = 0; i < 200 + dice.int(2000); i++) vars[`HTTP_X_${i}`] = 'v'; // many headers
    if (dice.chance(0.03)) vars.HTTP_X_BIG = 'b'.repeat(MAX_VARS_BYTES - 400); // a block near its 64 KiB limit
    return vars;
  }

  /** One change to the packet: datasize, a key or value length, a byte, its end. */
  private mutate(packet: Buffer): Buffer {
    const { dice } = this;
    const out = Buffer.from(packet);
    const size = out.readUInt16LE(1);
    switch (dice.int(6)) {
      case 0: // datasize smaller: the block ends inside a variable, the rest reads as body
        out.writeUInt16LE(Math.max(0, size - 1 - dice.int(Math.max(1, size))), 1);
        return out;
      case 1: // datasize larger: the block swallows body bytes, or waits for them
        out.writeUInt16LE(Math.min(0xffff, size + 1 + dice.int(100)), 1);
        return out;
      case 2: { // a key or value length that runs past the block
        const at = UWSGI_HEADER_BYTES + 2 * dice.int(Math.max(1, size / 2));
        if (at + 2 <= out.length) out.writeUInt16LE(dice.pick([0xffff, size, dice.int(0x10000)]), at);
        return out;
      }
      case 3:
        out[dice.int(out.length)] = dice.int(256);
        return out;
      case 4:
        return out.subarray(0, dice.int(out.length));
      default: // one odd byte after the block, inside datasize
        out.writeUInt16LE(Math.min(0xffff, size + 1), 1);
        return Buffer.concat([out.subarray(0, UWSGI_HEADER_BYTES + size), Buffer.from([dice.int(256)]), out.subarray(UWSGI_HEADER_BYTES + size)]);
    }
  }
}
