// The answers the front ends give by themselves, before any app sees the request, are requests
// in the access log and the stats too: h2 and SPDY streams spry resets (a bad :authority or
// :path, on a request or an extended CONNECT), h2's 501 for an extended CONNECT no app takes,
// HTTP/1.1's 426 for an upgrade whose listener went between node:http's check and the upgrade,
// SPDY's 400 for a head without its method, path, version or host, the uwsgi front end's
// 400 for variables that are not a request spry serves, and the edge's 504 written on an
// HTTP/1.1 socket past node:http's response.

import assert from 'node:assert/strict';
import { connect as http2Connect, constants as http2Constants } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { describe, test } from 'node:test';
import { RawH2Peer } from '../helpers/raw-h2-peer.ts';
import { RawSpdyPeer } from '../helpers/raw-spdy-peer.ts';
import { startSpry, TEST_APP_ARGS } from '../helpers/spry-process.ts';
import { freePort } from '../helpers/free-port.ts';
import { plainRequest } from '../uwsgi/helpers.ts';
import { H2WebSocket } from '../websocket/ws-helpers.ts';
import { linesOf, statsWhen, tempDir, uwsgiGet } from './helpers.ts';

type Line = { method: string; uri: string; protocol: string; stream: number; status: number; rsize: number; hsize: number; reset: string | null; cut: boolean };

/** A spry with JSON access lines to a file and a stats server, serving `app` (and listening as `extra` says). */
async function observedSpry(app: readonly string[], extra: readonly string[] = []) {
  const dir = await tempDir();
  const statsPort = await freePort();
  const log = dir.file('access.log');
  const spry = await startSpry(['--https2', 'addr=127.0.0.1:0,spdy=1', ...extra, ...app, '--logto', log, '--log-format', 'json', '--stats', `127.0.0.1:${statsPort}`]);
  return {
    spry,
    statsPort,
    lines: async (count: number): Promise<Line[]> => (await linesOf(log, count)).map((line) => JSON.parse(line) as Line),
    async stop() {
      await spry.stop();
      await dir.remove();
    },
  };
}

describe('h2 streams spry resets itself are logged and counted', () => {
  test('a request whose :authority port is not digits: RST_STREAM PROTOCOL_ERROR, one line with status 0 naming the reset, one SPRY_ERR_BAD_AUTHORITY', async () => {
    const observed = await observedSpry(TEST_APP_ARGS);
    try {
      const session = http2Connect(`https://127.0.0.1:${observed.spry.listener('https').port}`, { rejectUnauthorized: false });
      try {
        const stream = session.request({ ':path': '/status/200', ':authority': 'localhost:http' });
        stream.on('error', () => {});
        stream.resume();
        const code = await new Promise<number>((resolve) => stream.on('close', () => resolve(stream.rstCode ?? -1)));
        assert.equal(code, http2Constants.NGHTTP2_PROTOCOL_ERROR);
      } finally {
        session.close();
      }
      const [line] = await observed.lines(1);
      assert.deepEqual({ method: line.method, uri: line.uri, protocol: line.protocol, stream: line.stream, status: line.status, rsize: line.rsize, reset: line.reset }, { method: 'GET', uri: '/status/200', protocol: 'h2', stream: 1, status: 0, rsize: 0, reset: 'PROTOCOL_ERROR' });
      const stats = await statsWhen(observed.statsPort, (s) => s.protocols.h2?.requests === 1);
      assert.deepEqual(stats.protocols.h2.errors, { SPRY_ERR_BAD_AUTHORITY: 1 });
      assert.deepEqual(stats.protocols.h2.statusClasses, { '0xx': 1 });
    } finally {
      await observed.stop();
    }
  });

  test('an extended CONNECT whose :authority port is not digits: RST_STREAM PROTOCOL_ERROR, one line naming the reset, one SPRY_ERR_BAD_AUTHORITY', async () => {
    const observed = await observedSpry(['--module', './test/fixtures/ws-app.ts:server']);
    try {
      const port = observed.spry.listener('https').port;
      const peer = await RawH2Peer.connect(port);
      try {
        peer.request(1, [[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':path', '/chat'], [':authority', 'localhost:http']]);
        assert.deepEqual(await peer.outcome(1), { kind: 'reset', code: 1 /* PROTOCOL_ERROR */ });
      } finally {
        peer.close();
      }
      const [line] = await observed.lines(1);
      assert.deepEqual({ method: line.method, uri: line.uri, protocol: line.protocol, status: line.status, reset: line.reset }, { method: 'CONNECT', uri: '/chat', protocol: 'h2', status: 0, reset: 'PROTOCOL_ERROR' });
      const stats = await statsWhen(observed.statsPort, (s) => s.protocols.h2?.requests === 1);
      assert.deepEqual(stats.protocols.h2.errors, { SPRY_ERR_BAD_AUTHORITY: 1 });
    } finally {
      await observed.stop();
    }
  });
});

describe('answers to upgrades no app takes are logged and counted', () => {
  test('h2: an extended CONNECT to an app without upgrade listeners gets 501 and one line with its status and body size, and no protocol error', async () => {
    const observed = await observedSpry(TEST_APP_ARGS);
    try {
      const ws = await H2WebSocket.open(`https://127.0.0.1:${observed.spry.listener('https').port}`, '/chat');
      assert.equal(ws.response[':status'], 501);
      ws.close();
      const [line] = await observed.lines(1);
      const body = 'no upgrade to websocket here\n';
      assert.deepEqual({ method: line.method, uri: line.uri, protocol: line.protocol, status: line.status, rsize: line.rsize, reset: line.reset }, { method: 'CONNECT', uri: '/chat', protocol: 'h2', status: 501, rsize: body.length, reset: null });
      // "HTTP/1.1 501 Not Implemented\r\n", content-type, the blank line: as HTTP/1.1 would write it.
      assert.equal(line.hsize, 'HTTP/1.1 501 Not Implemented\r\ncontent-type: text/plain; charset=utf-8\r\n\r\n'.length);
      const stats = await statsWhen(observed.statsPort, (s) => s.protocols.h2?.requests === 1);
      assert.deepEqual(stats.protocols.h2.statusClasses, { '5xx': 1 });
      assert.deepEqual(stats.protocols.h2.errors, {});
    } finally {
      await observed.stop();
    }
  });

  test('HTTP/1.1: an upgrade whose listener went after node:http let it through gets 426 and one line', async () => {
    const observed = await observedSpry(['--module', './test/fixtures/fickle-upgrade-app.ts:server']);
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = tlsConnect({ host: '127.0.0.1', port: observed.spry.listener('https').port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
          socket.write('GET /chat HTTP/1.1\r\nhost: a\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n');
        });
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      assert.match(answer, /^HTTP\/1\.1 426 /);
      const [line] = await observed.lines(1);
      assert.deepEqual({ method: line.method, uri: line.uri, protocol: line.protocol, status: line.status, rsize: line.rsize, hsize: line.hsize }, { method: 'GET', uri: '/chat', protocol: 'http/1.1', status: 426, rsize: 0, hsize: answer.length });
      const stats = await statsWhen(observed.statsPort, (s) => s.protocols['http/1.1']?.requests === 1);
      assert.deepEqual(stats.protocols['http/1.1'].statusClasses, { '4xx': 1 });
      assert.deepEqual(stats.protocols['http/1.1'].errors, {});
    } finally {
      await observed.stop();
    }
  });
});

describe('SPDY requests refused for their heads are logged and counted', () => {
  test('a SYN_STREAM without :path gets its 400 and one line with that status and body size, and one SPRY_ERR_SPDY_MISSING_HEADER', async () => {
    const observed = await observedSpry(TEST_APP_ARGS);
    try {
      const peer = await RawSpdyPeer.connect(observed.spry.listener('https').port, 'spdy/3.1');
      let body: Buffer;
      try {
        const headers = peer.requestHeaders('/bytes?n=10');
        headers.splice(headers.indexOf(':path'), 2);
        peer.write(peer.synStream(1, headers, { fin: true }));
        const response = await peer.response(1);
        assert.equal(response.status, 400);
        body = response.body;
      } finally {
        peer.close();
      }
      const [line] = await observed.lines(1);
      assert.deepEqual({ method: line.method, uri: line.uri, protocol: line.protocol, stream: line.stream, status: line.status, rsize: line.rsize, reset: line.reset }, { method: 'GET', uri: '-', protocol: 'spdy/3.1', stream: 1, status: 400, rsize: body.length, reset: null });
      assert.equal(line.hsize, 'HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n\r\n'.length);
      const stats = await statsWhen(observed.statsPort, (s) => s.protocols['spdy/3.1']?.requests === 1);
      assert.deepEqual(stats.protocols['spdy/3.1'].statusClasses, { '4xx': 1 });
      assert.deepEqual(stats.protocols['spdy/3.1'].errors, { SPRY_ERR_SPDY_MISSING_HEADER: 1 });
    } finally {
      await observed.stop();
    }
  });

  for (const [fault, headers, code] of [
    ['a :path that is not origin-form', [], 'SPRY_ERR_BAD_TARGET'],
    ['a content-length that is not a length', ['content-length', '1x'], 'SPRY_ERR_SPDY_CONTENT_LENGTH'],
  ] as const) {
    test(`a SYN_STREAM with ${fault}: RST_STREAM PROTOCOL_ERROR, one line with status 0 naming the reset, one ${code} (not two)`, async () => {
      const observed = await observedSpry(TEST_APP_ARGS);
      try {
        const peer = await RawSpdyPeer.connect(observed.spry.listener('https').port, 'spdy/3.1');
        try {
          const path = code === 'SPRY_ERR_BAD_TARGET' ? 'bytes?n=10' : '/bytes?n=10';
          peer.write(peer.synStream(1, [...peer.requestHeaders(path, { method: 'POST' }), ...headers]));
          await peer.until(() => peer.framesOf('RST_STREAM', 1).length > 0);
          assert.equal(peer.framesOf('RST_STREAM', 1)[0].status, 1 /* PROTOCOL_ERROR */);
        } finally {
          peer.close();
        }
        const [line] = await observed.lines(1);
        assert.deepEqual({ protocol: line.protocol, stream: line.stream, status: line.status, rsize: line.rsize, reset: line.reset }, { protocol: 'spdy/3.1', stream: 1, status: 0, rsize: 0, reset: 'PROTOCOL_ERROR' });
        const stats = await statsWhen(observed.statsPort, (s) => s.protocols['spdy/3.1']?.requests === 1);
        assert.deepEqual(stats.protocols['spdy/3.1'].statusClasses, { '0xx': 1 });
        assert.deepEqual(stats.protocols['spdy/3.1'].errors, { [code]: 1 });
      } finally {
        await observed.stop();
      }
    });
  }
});

describe('the uwsgi front end\'s refusals are logged and counted', () => {
  test('variables whose REQUEST_URI is not origin-form get a 400 whose length is its body\'s, one line with its sizes, and one SPRY_ERR_BAD_TARGET', async () => {
    const dir = await tempDir();
    const socket = dir.file('app.sock');
    const observed = await observedSpry(TEST_APP_ARGS, ['--socket', socket]);
    try {
      // A router may pass any byte but CR, LF and NUL: é here is one byte (latin1), in the answer too.
      const answer = await uwsgiGet(0, 'caf\u00e9', {}, socket);
      const [head, body] = answer.split('\r\n\r\n');
      assert.match(head, /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.equal(Number(/content-length: (\d+)/.exec(head)?.[1]), Buffer.byteLength(body, 'latin1'));
      assert.match(body, /caf\u00e9/);
      const [line] = await observed.lines(1);
      assert.deepEqual({ method: line.method, uri: line.uri, protocol: line.protocol, status: line.status, rsize: line.rsize, hsize: line.hsize }, { method: 'GET', uri: 'caf\u00e9', protocol: 'uwsgi', status: 400, rsize: Buffer.byteLength(body, 'latin1'), hsize: head.length + 4 });
      const stats = await statsWhen(observed.statsPort, (s) => s.protocols.uwsgi?.requests === 1);
      assert.deepEqual(stats.protocols.uwsgi.statusClasses, { '4xx': 1 });
      assert.deepEqual(stats.protocols.uwsgi.errors, { SPRY_ERR_BAD_TARGET: 1 });
    } finally {
      await observed.stop();
      await dir.remove();
    }
  });

  test('a malformed uwsgi packet gets a 400 and one line with no method or target, and one SPRY_ERR_UWSGI_BAD_PACKET', async () => {
    const dir = await tempDir();
    const socketPath = dir.file('app.sock');
    const observed = await observedSpry(TEST_APP_ARGS, ['--socket', socketPath]);
    try {
      // A 4-byte vars block whose first key claims 10 bytes.
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = netConnect(socketPath, () => socket.write(Buffer.from([0, 4, 0, 0, 10, 0, 0x61, 0x62])));
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n[^]*\r\n\r\nBad Request: a key runs past the vars block\n$/);
      const [line] = await observed.lines(1);
      assert.deepEqual({ method: line.method, uri: line.uri, protocol: line.protocol, status: line.status }, { method: '-', uri: '-', protocol: 'uwsgi', status: 400 });
      const stats = await statsWhen(observed.statsPort, (s) => s.protocols.uwsgi?.requests === 1);
      assert.deepEqual(stats.protocols.uwsgi.errors, { SPRY_ERR_UWSGI_BAD_PACKET: 1 });
    } finally {
      await observed.stop();
      await dir.remove();
    }
  });
});

describe('the edge\'s answers on a node:http socket are logged as sent', () => {
  test('HTTP/1.1 to a Node listener app: --harakiri\'s 504 is one line with status 504 and its sizes, not a cut request with status 0', async () => {
    const observed = await observedSpry(['--module', './test/fixtures/edge-app.ts:edgeApp', '--harakiri', '1'], ['--http', '127.0.0.1:0']);
    try {
      const response = await plainRequest(observed.spry.listener('http').port, '/slow?ms=3000');
      assert.equal(response.status, 504);
      const [line] = await observed.lines(1);
      const head = `HTTP/1.1 504 Gateway Timeout\r\n${response.rawHeaders.map((field, i) => (i % 2 === 0 ? `${field}: ` : `${field}\r\n`)).join('')}\r\n`;
      assert.deepEqual({ uri: line.uri, protocol: line.protocol, status: line.status, rsize: line.rsize, hsize: line.hsize, cut: line.cut }, { uri: '/slow?ms=3000', protocol: 'http/1.1', status: 504, rsize: response.body.length, hsize: head.length, cut: false });
      const stats = await statsWhen(observed.statsPort, (s) => s.protocols['http/1.1']?.requests === 1);
      assert.deepEqual(stats.protocols['http/1.1'].statusClasses, { '5xx': 1 });
    } finally {
      await observed.stop();
    }
  });
});
