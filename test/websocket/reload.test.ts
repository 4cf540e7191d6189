// Open WebSockets across a reload (SIGHUP) and a shutdown of a master with -p 2: they stay with
// the old workers, exchanging frames, until --worker-reload-mercy passes, while new connections
// go to the new workers; then each gets a close frame 1001 (Going Away), after every frame the
// app sent before it. The `ws` client (HTTP/1.1 upgrades) and an RFC 8441 client (h2 streams).

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { startPeer } from '../uwsgi/helpers.ts';
import { delay, isAlive, killAllRuns, startMaster, waitUntil, type RunningMaster } from '../master/master-process.ts';
import { H2WebSocket } from './ws-helpers.ts';

after(killAllRuns);

const CHAT_INTERVAL_MS = 20;

/** A WebSocket sending `m0`, `m1`, … until it is closed, keeping the echoes it gets back. */
interface Chat {
  readonly pid: number;
  readonly received: string[];
  /** The close code the server sent (1006: none, the connection just ended). */
  readonly closed: Promise<number>;
}

async function h1Chat(port: number, path = '/chat'): Promise<Chat> {
  const ws = new WebSocket(`wss://127.0.0.1:${port}${path}`, { rejectUnauthorized: false });
  ws.on('error', () => {});
  await once(ws, 'open');
  ws.send('pid');
  const [pid] = (await once(ws, 'message')) as [Buffer];
  const received: string[] = [];
  ws.on('message', (data: Buffer) => received.push(data.toString()));
  let n = 0;
  const timer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(`m${n++}`), CHAT_INTERVAL_MS);
  const closed = once(ws, 'close').then(([code]) => {
    clearInterval(timer);
    return code as number;
  });
  return { pid: Number(pid.toString().split(' ')[1]), received, closed };
}

async function h2Chat(port: number, path = '/chat'): Promise<Chat> {
  const ws = await H2WebSocket.open(`https://127.0.0.1:${port}`, path);
  assert.equal(ws.response[':status'], 200);
  ws.send('pid');
  const pid = Number((await ws.receive()).split(' ')[1]);
  const received: string[] = [];
  let n = 0;
  let open = true;
  const timer = setInterval(() => open && !ws.stream.writableEnded && ws.send(`m${n++}`), CHAT_INTERVAL_MS);
  const closed = (async () => {
    try {
      for (;;) {
        const frame = await ws.receiveFrame(60_000).catch(() => undefined);
        if (frame === undefined) return 1006;
        if (frame.opcode === 0x8) return frame.payload.readUInt16BE(0);
        received.push(frame.payload.toString());
      }
    } finally {
      open = false;
      clearInterval(timer);
      ws.close();
    }
  })();
  return { pid, received, closed };
}

/** Every echo came back, in order, up to the close: no frame lost before the 1001. */
function assertNoGap(chat: Chat, protocol: string, echo = (i: number) => `echo m${i} ${protocol}`): void {
  assert.ok(chat.received.length > 0);
  chat.received.forEach((text, i) => assert.equal(text, echo(i)));
}

async function startWsMaster(): Promise<RunningMaster> {
  return startMaster(['--https2', 'addr=127.0.0.1:0', '--module', './test/fixtures/ws-app.ts:server', '-p', '2', '--worker-reload-mercy', '2']);
}

describe('open WebSockets across a reload of a master with -p 2', () => {
  let spry: RunningMaster;
  after(() => spry?.kill());

  it('keeps them with the old workers, exchanging frames, until the mercy, then closes them with 1001 after every frame sent', async () => {
    spry = await startWsMaster();
    const port = spry.listener('https').port;
    const oldPids = spry.listeners[0].workerPids;
    const chats = await Promise.all([h1Chat(port), h1Chat(port), h2Chat(port), h2Chat(port)]);
    for (const chat of chats) assert.ok(oldPids.includes(chat.pid));
    spry.child.kill('SIGHUP');
    await spry.waitForLine(/^spry: reload: new workers ready/, 15_000);
    const atReload = chats.map((chat) => chat.received.length);

    const fresh = await h1Chat(port);
    assert.ok(!oldPids.includes(fresh.pid), `a new connection goes to a new worker, not ${fresh.pid}`);
    await delay(300);
    chats.forEach((chat, i) => assert.ok(chat.received.length > atReload[i], 'the old WebSockets still exchange frames after the new workers took over'));

    const codes = await Promise.all(chats.map((chat) => chat.closed));
    assert.deepEqual(codes, [1001, 1001, 1001, 1001]);
    assertNoGap(chats[0], 'HTTP/1.1');
    assertNoGap(chats[1], 'HTTP/1.1');
    assertNoGap(chats[2], 'HTTP/2.0');
    assertNoGap(chats[3], 'HTTP/2.0');
    await waitUntil(() => oldPids.every((pid) => !isAlive(pid)), 'the old workers to exit');
    assert.ok(isAlive(fresh.pid), 'the new worker still serves');
  });
});

describe('open WebSockets across a shutdown', () => {
  let spry: RunningMaster;
  after(() => spry?.kill());

  it('closes them with 1001 after every frame sent once the mercy passes, and the master exits 0', async () => {
    spry = await startWsMaster();
    const port = spry.listener('https').port;
    const chats = await Promise.all([h1Chat(port), h2Chat(port)]);
    const exited = spry.stop('SIGTERM', 20_000);
    const codes = await Promise.all(chats.map((chat) => chat.closed));
    assert.deepEqual(codes, [1001, 1001]);
    assertNoGap(chats[0], 'HTTP/1.1');
    assertNoGap(chats[1], 'HTTP/2.0');
    assert.equal((await exited).code, 0);
  });
});

describe('forwarded WebSockets (--http-to a ws backend) across a shutdown', () => {
  let spry: RunningMaster;
  let backend: Awaited<ReturnType<typeof startPeer>> | undefined;
  after(async () => {
    await spry?.kill();
    await backend?.stop();
  });

  it('closes the client\'s side with 1001 between two of the backend\'s frames, after every frame it sent', async () => {
    backend = await startPeer('ws backend', process.execPath, ['--conditions=spry-source', new URL('../fixtures/ws-backend.ts', import.meta.url).pathname, 'relay'], { ready: /listening (\d+)/ });
    spry = await startMaster(['--https2', 'addr=127.0.0.1:0', '--http-to', `http://127.0.0.1:${backend.match![1]}`, '-p', '2', '--worker-reload-mercy', '2']);
    const port = spry.listener('https').port;
    const chats = await Promise.all([h1Chat(port, '/echo'), h2Chat(port, '/echo')]);
    const exited = spry.stop('SIGTERM', 20_000);
    const codes = await Promise.all(chats.map((chat) => chat.closed));
    assert.deepEqual(codes, [1001, 1001]);
    for (const chat of chats) assertNoGap(chat, 'websocket', (i) => `relay m${i} websocket`);
    assert.equal((await exited).code, 0);
  });
});
