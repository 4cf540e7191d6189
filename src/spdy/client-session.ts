// What only the client end of a SPDY session does (spry's own client, client.ts): open request
// streams, and take the server's pushes (SPDY/3 §3.3), or refuse them with CANCEL when nobody
// listens for 'push'.

import type { Socket } from 'node:net';
import { SpryError } from '../errors.ts';
import type { FlatHeaders } from '../exchange/exchange.ts';
import { RstStatus } from './constants.ts';
import type { SynStreamFrame } from './frames.ts';
import { SpdyStreamError } from './protocol-error.ts';
import { appendHeaders } from './request-head.ts';
import type { SpdySessionOptions } from './session-events.ts';
import { SpdySession } from './session.ts';
import { SpdyStream } from './stream.ts';

export class SpdyClientSession extends SpdySession {
  constructor(socket: Socket, options: Omit<SpdySessionOptions, 'role'>) {
    super(socket, { ...options, role: 'client' });
  }

  /** Opens a request stream. `headers` are regular headers; the reserved ones are built here. */
  request(
    target: { method: string; path: string; host: string; scheme?: string },
    headers: FlatHeaders = [],
    options: { endStream?: boolean; priority?: number } = {},
  ): SpdyStream {
    if (!this.life.open) throw new SpryError('SPRY_ERR_SPDY_SESSION_CLOSED', 'the session is closing');
    const id = this.registry.takeLocalId();
    if (id === undefined) throw new SpryError('SPRY_ERR_SPDY_SESSION_CLOSED', 'stream ids are used up; open a new connection');
    const priority = Math.min(Math.max(Math.trunc(options.priority ?? 0), 0), 0xff >> this.version.priorityShift);
    const stream = new SpdyStream(this, id, priority, this.flow.peerInitialWindow, this.flow.localInitialWindow);
    this.registry.add(stream);
    const names = this.version.headers;
    const block: FlatHeaders = [names.method, target.method, names.path, target.path, names.version, 'HTTP/1.1'];
    block.push(names.host, target.host, names.scheme, target.scheme ?? 'https');
    appendHeaders(block, headers);
    stream.open(block, options.endStream ?? false);
    return stream;
  }

  protected openPeerStream(frame: SynStreamFrame, headers: FlatHeaders, headerError: SpdyStreamError | undefined): void {
    const id = frame.streamId;
    const verdict = this.registry.admitPush(frame, headerError);
    if (verdict !== undefined) return this.act(verdict);
    if (this.listenerCount('push') === 0) {
      return this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STATE', id, RstStatus.CANCEL, `push ${id} not wanted`));
    }
    const stream = new SpdyStream(this, id, frame.priority, this.flow.peerInitialWindow, this.flow.localInitialWindow);
    stream.markLocalDone(); // unidirectional: we never send on it
    stream.gotReply = true;
    this.registry.add(stream);
    this.emit('push', stream, headers, frame.associatedStreamId);
    if (frame.fin) stream.receiveFin();
  }
}
