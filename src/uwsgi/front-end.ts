// The uwsgi front end (--socket): one request per connection, read as a uwsgi packet, served by
// the app, answered as HTTP/1.1. This is how nginx's uwsgi_pass and uWSGI's routers reach a
// spry-run app. A packet that does not parse, or variables that are not a request spry serves,
// get a 400 naming the fault, and an access line like any answer.

import type { Socket } from 'node:net';
import type { App } from '../apps/app.ts';
import type { SpryError } from '../errors.ts';
import type { StreamTuning } from '../config/config.ts';
import type { ConnectionInfo } from '../exchange/connection-info.ts';
import type { RequestHead } from '../exchange/exchange.ts';
import { badRequestBody, checkRequestHead, type RequestHeadProblem } from '../exchange/request-validation.ts';
import { setHighWaterMarks } from '../internals/node-internals.ts';
import type { FrontEnd } from '../listen/front-end.ts';
import { tracer } from '../log.ts';
import { requestHeadFromVars, UwsgiExchange, uwsgiVarsProblem } from './exchange.ts';
import { UwsgiRequestDecoder } from './packet.ts';
import { countRefusal } from '../observe/counters.ts';

const trace = tracer('uwsgi');
const SHUTTING_DOWN = 'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n';

export function createUwsgiFrontEnd(app: App, options: { idleTimeoutMs: number; tuning: StreamTuning }): FrontEnd {
  const buffers = { writeBytes: options.tuning.writeBufferBytes, readBytes: options.tuning.readBufferBytes };
  /** Connections whose request packet has not arrived whole yet: the idle ones. */
  const reading = new Set<Socket>();
  let closing = false;
  return {
    accept(socket, connection) {
      setHighWaterMarks(socket, buffers);
      if (options.idleTimeoutMs > 0) socket.setTimeout(options.idleTimeoutMs, () => socket.destroy());
      socket.on('error', () => {});
      reading.add(socket);
      socket.once('close', () => reading.delete(socket));
      const decoder = new UwsgiRequestDecoder();
      const onData = (chunk: Buffer) => {
        let result;
        try {
          result = decoder.push(chunk);
        } catch (error) {
          // No request could be read: a 400 all the same, logged with no method or target.
          const fault = error as SpryError;
          trace?.(`${connection.remoteAddress}: ${fault.message}`);
          socket.off('data', onData);
          reading.delete(socket);
          refuse(socket, { ...requestHeadFromVars({}, connection), method: '-', target: '-' }, { code: fault.code ?? 'SPRY_ERR_UWSGI_BAD_PACKET', message: fault.message });
          return;
        }
        if (!result.done) return;
        socket.off('data', onData);
        reading.delete(socket);
        const vars = result.request.vars;
        const head = requestHeadFromVars(vars, connection);
        if (closing) {
          socket.end(SHUTTING_DOWN);
          // Not the client's fault: a line and a 5xx, no protocol error.
          countRefusal(head, undefined, 503, SHUTTING_DOWN.length, 0);
          return;
        }
        // No parser has looked at a router's variables: all of the head is checked here, before
        // the app sees it (docs/request-heads.md §2).
        const problem = uwsgiVarsProblem(vars) ?? checkRequestHead(head);
        if (problem !== undefined) {
          trace?.(`${connection.remoteAddress}: ${problem.code}: ${problem.message}`);
          refuse(socket, head, problem);
          return;
        }
        app.serve(new UwsgiExchange(socket, head, vars, result.rest, buffers));
      };
      socket.on('data', onData);
    },
    close() {
      closing = true;
    },
    closeIdle() {
      for (const socket of reading) socket.destroy();
    },
  };
}

/** A 400 naming the problem, and the connection closes; a line and a protocol error under its code. */
function refuse(socket: Socket, head: RequestHead, problem: RequestHeadProblem): void {
  // Written as latin1, as the variables were read (packet.ts): a byte per char.
  const body = badRequestBody(problem);
  const responseHead = `HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\n\r\n`;
  socket.end(responseHead + body, 'latin1');
  countRefusal(head, problem.code, 400, responseHead.length, body.length);
}
