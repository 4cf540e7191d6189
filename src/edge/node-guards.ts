// --limit-post, --harakiri and HSTS for requests node:http parsed itself (HTTP/1.1 with a Node
// listener app, which gets node:http's own objects). A cut takes the connection from under the
// app: the status goes straight onto the socket (when nothing was sent yet) and the connection
// closes, so the app's request sees 'aborted' and whatever it writes later falls on nothing.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestHead } from '../exchange/exchange.ts';
import { kRawAnswer, type RawAnswerCarrier } from '../exchange/raw-answer.ts';
import { logLine } from '../log.ts';
import { EDGE_FAILURES, type EdgeFailure } from './edge-options.ts';
import type { ExchangeBounds } from './guarded-exchange.ts';

/** How long a cut connection keeps swallowing what the client still sends (nginx: lingering_time). */
const LINGER_MS = 2_000;

/**
 * Closes a connection whose answer went out while the client was still sending its body: the
 * FIN goes after the answer, and what keeps arriving is read and dropped until the client closes
 * or LINGER_MS pass. Destroying it at once, with unread bytes in the kernel's buffer, makes the
 * kernel send RST, and a client that has not read the answer yet loses it (nginx's lingering
 * close does this too).
 */
function lingerThenClose(socket: Socket): void {
  socket.removeAllListeners('data'); // node:http's parser: the rest is no request of ours
  socket.on('data', ignore);
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('end', () => socket.destroy());
  socket.once('close', () => clearTimeout(timer));
}

function ignore(): void {}

export function guardNodeRequest(req: IncomingMessage, res: ServerResponse, head: RequestHead, bounds: ExchangeBounds): void {
  if (bounds.extraHeader !== undefined) res.setHeader(bounds.extraHeader[0], bounds.extraHeader[1]);
  let cut = false;
  const fail = (kind: EdgeFailure): void => {
    if (cut || res.writableFinished) return;
    cut = true;
    clearTimeout(timer);
    const socket = req.socket as Socket;
    const { status, code, body } = EDGE_FAILURES[kind];
    if (kind === 'harakiri') logLine(`${code}: ${head.method} ${head.target} not answered within ${bounds.harakiriMs / 1000} s`);
    if (res.headersSent || socket.destroyed) return void socket.destroy();
    const answerHead = `HTTP/1.1 ${status} ${kind === 'harakiri' ? 'Gateway Timeout' : 'Content Too Large'}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`;
    (res as RawAnswerCarrier)[kRawAnswer] = { status, headBytes: answerHead.length, bodyBytes: body.length };
    socket.end(answerHead + body);
    lingerThenClose(socket);
  };
  const timer = bounds.harakiriMs > 0 ? setTimeout(fail, bounds.harakiriMs, 'harakiri') : undefined;
  if (timer !== undefined) res.once('close', () => clearTimeout(timer));
  // A body without Content-Length (chunked) is counted as node:http's parser hands it over:
  // IncomingMessage.push is where every body chunk enters the request.
  if (bounds.limitPostBytes > 0 && head.hasBody && req.headers['content-length'] === undefined) {
    let received = 0;
    const push = req.push;
    req.push = function (chunk: unknown, encoding?: BufferEncoding): boolean {
      if (cut) return true;
      if (chunk !== null && (received += (chunk as Buffer).length) > bounds.limitPostBytes) {
        fail('body-too-large');
        return true;
      }
      return push.call(this, chunk, encoding);
    };
  }
}
