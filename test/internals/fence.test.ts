// The fence around what spry borrows from Node.js and pako (src/internals/): every private part
// is there on the Node running the tests (CI runs them on Node 24 and 26), and a missing one
// stops spry at load with an error naming the runtime's version and the part.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { IncomingMessage, OutgoingMessage, ServerResponse } from 'node:http';
import { connect as http2Connect, createServer as createHttp2Server, type Http2Session } from 'node:http2';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Duplex } from 'node:stream';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SpryError } from '../../src/errors.ts';
import { NODE, http2SessionDestroy, kNeedDrain, kOutHeaders, nodeInternalChecks, type NodeSubjects } from '../../src/internals/node-internals.ts';
import { pakoInternalChecks, probeInflateState } from '../../src/internals/pako-internals.ts';
import { missingInternals, requireInternals } from '../../src/internals/require-internals.ts';
import { streamHandleChecks } from '../../src/internals/stream-handles.ts';

const SPRY_INDEX = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
/** What the command line loads: the router's parts (the forwarding app) included. */
const SPRY_SERVER = fileURLToPath(new URL('../../src/server.ts', import.meta.url));

/** Loads spry (`module`) in a child Node whose preload (ES module source) changed something first. */
async function loadSpryAfter(preload: string, module = SPRY_INDEX): Promise<{ code: number; stderr: string }> {
  const importPreload = `--import=data:text/javascript,${encodeURIComponent(preload)}`;
  const load = `await import(${JSON.stringify(module)});`;
  try {
    await promisify(execFile)(process.execPath, [importPreload, '--conditions=spry-source', '--input-type=module', '-e', load], { timeout: 30_000 });
    return { code: 0, stderr: '' };
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
}

describe(`Node.js internals on ${process.version}`, () => {
  test('every private part spry relies on is there and does what spry needs', () => {
    assert.deepEqual(missingInternals(nodeInternalChecks(NODE)), []);
  });

  test('the looked-up symbols are the ones a ServerResponse uses: setHeader() fills kOutHeaders, a write that fills the socket sets kNeedDrain', () => {
    // A socket whose writes never complete: the response's second write finds it full.
    const socket = new Duplex({ read() {}, write() {}, writableHighWaterMark: 1 });
    const req = new IncomingMessage(socket as never);
    req.method = 'GET';
    const res = new ServerResponse(req);
    res.assignSocket(socket as never);
    res.setHeader('X-One', '1');
    assert.deepEqual({ ...(res as unknown as Record<symbol, object>)[kOutHeaders] }, { 'x-one': ['X-One', '1'] });
    const privates = res as unknown as Record<symbol, boolean>;
    assert.notEqual(privates[kNeedDrain], true);
    res.write('first');
    assert.equal(res.write('second'), false);
    assert.equal(privates[kNeedDrain], true);
    assert.equal(res.writableNeedDrain, true);
    socket.destroy();
  });

  test('http2SessionDestroy is the destroy every h2 session inherits', async () => {
    const server = createHttp2Server();
    const accepted = once(server, 'session') as Promise<[Http2Session]>;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = http2Connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const [session] = await accepted;
    try {
      assert.equal(Object.hasOwn(session, 'destroy'), false);
      assert.equal(session.destroy, http2SessionDestroy);
    } finally {
      client.destroy();
      session.destroy();
      server.close();
    }
  });

  test('a missing part is named: _storeHeader, kNeedDrain, _addHeaderLines, a high-water mark that is not the one the getter reads', () => {
    class NoStoreHeader extends ServerResponse {}
    Object.defineProperty(NoStoreHeader.prototype, '_storeHeader', { value: undefined });
    class NoNeedDrain extends OutgoingMessage {
      constructor() {
        super();
        delete (this as unknown as Record<symbol, unknown>)[kNeedDrain];
      }
    }
    class NoHeaderLines extends IncomingMessage {}
    Object.defineProperty(NoHeaderLines.prototype, '_addHeaderLines', { value: () => {} });
    class OtherMark extends Duplex {}
    Object.defineProperty(OtherMark.prototype, 'writableHighWaterMark', { get: () => 16384 });
    const subjects = { OutgoingMessage: NoNeedDrain, ServerResponse: NoStoreHeader, IncomingMessage: NoHeaderLines, Duplex: OtherMark } as unknown as NodeSubjects;
    assert.deepEqual(missingInternals(nodeInternalChecks(subjects)), [
      'OutgoingMessage[kNeedDrain]',
      'OutgoingMessage.prototype._storeHeader',
      'IncomingMessage.prototype._addHeaderLines',
      '_writableState.highWaterMark (what writableHighWaterMark reads)',
    ]);
  });

  test('requireInternals throws SPRY_ERR_INTERNALS_MISSING naming the version and every missing part', () => {
    const present = (): boolean => true;
    const absent = (): boolean => false;
    const throws = (): boolean => {
      throw new TypeError('changed');
    };
    assert.throws(
      () => requireInternals(() => 'Node.js v99.0.0', { 'a part': present, 'socket._httpMessage': absent, 'state.mode': throws }),
      (error: unknown) =>
        error instanceof SpryError &&
        error.code === 'SPRY_ERR_INTERNALS_MISSING' &&
        error.message === 'Node.js v99.0.0 lacks what spry relies on: socket._httpMessage; state.mode. This spry does not support Node.js v99.0.0; update spry.',
    );
    assert.doesNotThrow(() => requireInternals(() => 'Node.js v99.0.0', { 'a part': present }));
  });

  test('spry fails at load, naming this Node and the part, when OutgoingMessage has no _storeHeader', async () => {
    const { code, stderr } = await loadSpryAfter(`import { OutgoingMessage } from 'node:http'; delete OutgoingMessage.prototype._storeHeader;`);
    assert.notEqual(code, 0);
    assert.match(stderr, /SPRY_ERR_INTERNALS_MISSING/);
    assert.ok(stderr.includes(`Node.js ${process.version} lacks what spry relies on: OutgoingMessage.prototype._storeHeader. `), stderr);
  });

  test("the socket handles a uwsgi backend connection rides on (process.binding's tcp_wrap, pipe_wrap, stream_wrap) are there", () => {
    const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
    const tcp = binding('tcp_wrap');
    const pipe = binding('pipe_wrap');
    const stream = binding('stream_wrap');
    const parts = {
      TCP: tcp.TCP, TCPConnectWrap: tcp.TCPConnectWrap, tcpSocket: (tcp.constants as Record<string, number>).SOCKET,
      Pipe: pipe.Pipe, PipeConnectWrap: pipe.PipeConnectWrap, pipeSocket: (pipe.constants as Record<string, number>).SOCKET,
      WriteWrap: stream.WriteWrap, state: stream.streamBaseState, kReadBytesOrError: stream.kReadBytesOrError, kArrayBufferOffset: stream.kArrayBufferOffset, kLastWriteWasAsync: stream.kLastWriteWasAsync,
    };
    assert.deepEqual(missingInternals(streamHandleChecks(parts as never)), []);
  });

  test("spry fails at load, naming this Node and the part, when process.binding('stream_wrap') has no WriteWrap", async () => {
    const { code, stderr } = await loadSpryAfter(`delete process.binding('stream_wrap').WriteWrap;`, SPRY_SERVER);
    assert.notEqual(code, 0);
    assert.match(stderr, /SPRY_ERR_INTERNALS_MISSING/);
    assert.ok(stderr.includes(`Node.js ${process.version} lacks what spry relies on: process.binding('stream_wrap').WriteWrap. `), stderr);
  });

  test('spry loads in the same child when nothing is changed', async () => {
    assert.deepEqual(await loadSpryAfter('export {};'), { code: 0, stderr: '' });
  });
});

describe('pako internals', () => {
  test('an inflate state between blocks has every field spry frees and restores', () => {
    const probe = probeInflateState();
    try {
      assert.deepEqual(missingInternals(pakoInternalChecks(probe.state)), []);
    } finally {
      probe.end();
    }
  });

  test('a missing or changed field is named', () => {
    const probe = probeInflateState();
    try {
      const changed = { ...probe.state, mode: 1, lendyn: undefined, work: new Uint16Array(10) };
      assert.deepEqual(missingInternals(pakoInternalChecks(changed)), [
        'inflate state.mode (16191 between blocks)',
        'inflate state.work (288 entries)',
        'inflate state.lendyn (852 entries)',
      ]);
    } finally {
      probe.end();
    }
  });

  test('spry fails at load, naming pako\'s version and the field, when the inflate state has no lendyn', async () => {
    // A setter on Object.prototype swallows pako's `this.lendyn = …`: the state never holds it.
    const { code, stderr } = await loadSpryAfter(`Object.defineProperty(Object.prototype, 'lendyn', { set() {}, get() { return undefined; }, configurable: true });`);
    assert.notEqual(code, 0);
    assert.match(stderr, /SPRY_ERR_INTERNALS_MISSING/);
    assert.match(stderr, /pako 3\.\d+\.\d+ lacks what spry relies on: inflate state\.lendyn \(852 entries\)\./);
  });
});
