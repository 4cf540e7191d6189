// What only the server end of a SPDY session does: turn the client's SYN_STREAMs into request
// streams for the app (their heads read once the chunk that opened them is decoded; a head that
// does not parse is answered 400 here, and never reaches it),
// push what responses link to (docs/spdy-protocol.md §14), reset the streams that cannot send
// (stall-watch.ts), and close a session idle for --http-timeout.

import type { Socket } from 'node:net';
import { SpryError } from '../errors.ts';
import type { FlatHeaders } from '../exchange/exchange.ts';
import type { PushedResource, PushPlanner } from '../push/push-planner.ts';
import { declaredBodyLength, NO_DECLARED_LENGTH } from '../exchange/declared-length.ts';
import { bodyLengthFault } from './body-length.ts';
import { GoawayStatus, RstStatus } from './constants.ts';
import type { SynStreamFrame } from './frames.ts';
import { SpdyStreamError } from './protocol-error.ts';
import { pushHeaders, requestHeadFromHeaders } from './request-head.ts';
import type { SpdySessionOptions } from './session-events.ts';
import { SpdySession } from './session.ts';
import { StallWatch } from './stall-watch.ts';
import { SpdyStream } from './stream.ts';
import { counting, countRefusal, countReset } from '../observe/counters.ts';

const BAD_REQUEST_HEADERS: FlatHeaders = ['content-type', 'text/plain; charset=utf-8'];

export interface SpdyServerSessionOptions extends Omit<SpdySessionOptions, 'role'> {
  /** Close the connection after this long without traffic, and reset streams stalled as long (0: never). */
  readonly idleTimeoutMs: number;
  /** Pushes what responses link to with rel=preload (absent: no push). */
  readonly pushPlanner?: PushPlanner;
}

export class SpdyServerSession extends SpdySession {
  private readonly pushPlanner: PushPlanner | undefined;
  /** Absent when --http-timeout is 0. */
  private readonly stallWatch: StallWatch | undefined;
  private readonly checkStallsBound = (): void => this.checkStalls();

  constructor(socket: Socket, options: SpdyServerSessionOptions) {
    super(socket, { ...options, role: 'server' });
    this.pushPlanner = options.pushPlanner;
    if (options.idleTimeoutMs > 0) {
      this.stallWatch = new StallWatch(options.idleTimeoutMs, this.tuning.sessionBufferBytes, this.flow);
      socket.setTimeout(options.idleTimeoutMs, () => this.onIdleTimeout());
    }
  }

  protected openPeerStream(frame: SynStreamFrame, headers: FlatHeaders, headerError: SpdyStreamError | undefined): void {
    const id = frame.streamId;
    let problem = headerError;
    let declared = NO_DECLARED_LENGTH;
    if (problem === undefined) {
      const length = declaredBodyLength(headers);
      if (typeof length === 'string') problem = new SpdyStreamError('SPRY_ERR_SPDY_CONTENT_LENGTH', id, RstStatus.PROTOCOL_ERROR, length);
      else problem = bodyLengthFault(id, (declared = length), 0, frame.fin);
    }
    const verdict = this.registry.admitRequest(frame, this.life.goawaySent, problem);
    if (verdict !== undefined) {
      // A request refused for its head is answered (RST_STREAM PROTOCOL_ERROR): a line, as h2's
      // are; its protocol error is counted from the session's report (front-end.ts).
      if (verdict === problem && problem !== undefined && counting()) countReset(requestHeadFromHeaders(this.version, id, headers, this.connection, !frame.fin).head, undefined, 'PROTOCOL_ERROR');
      return this.act(verdict);
    }
    const stream = new SpdyStream(this, id, frame.priority, this.flow.peerInitialWindow, this.flow.localInitialWindow, true);
    stream.declaredBodyBytes = declared;
    this.registry.addOpened(stream);
    stream.requestHeaders = headers;
    stream.requestHasBody = !frame.fin;
    if (frame.fin) stream.receiveFin();
    this.opened.push(stream);
    // While streams are open, look now and then for those that cannot send.
    this.stallWatch?.start(this.checkStallsBound);
  }

  /** The request head is read here, once the whole chunk is: a stream it reset never needs one. */
  protected override dispatch(stream: SpdyStream): void {
    const parsed = requestHeadFromHeaders(this.version, stream.id, stream.requestHeaders!, this.connection, stream.requestHasBody);
    stream.requestHeaders = null;
    if (!parsed.ok) {
      const body = Buffer.from(`Bad Request: ${parsed.problem}\n`);
      stream.respond(400, BAD_REQUEST_HEADERS, false);
      stream.end(body);
      // The client's fault: a line, a 4xx and a protocol error, as HTTP/1.1's 400s are.
      countRefusal(parsed.head, 'SPRY_ERR_SPDY_MISSING_HEADER', 400, BAD_REQUEST_HEADERS, body.length);
      return;
    }
    stream.head = parsed.head;
    super.dispatch(stream);
  }

  override willRespond(stream: SpdyStream, status: number, headers: FlatHeaders): void {
    // (A request refused with a 400 before it was parsed has no head: nothing to push for it.)
    if (this.pushPlanner === undefined || !stream.isServerStream || stream.head === undefined) return;
    this.pushPlanner(stream, status, headers, (this.pushes.pushedPaths ??= new Set()));
  }

  /**
   * Opens a server push associated with `parent`: a SYN_STREAM with an even id, UNIDIRECTIONAL,
   * carrying the pushed request and its response head, then the body. Queued before the parent's
   * SYN_REPLY, so the client learns of the push before anything that could make it ask itself.
   */
  override push(parent: SpdyStream, resource: PushedResource): SpdyStream | undefined {
    // No planner: push=0 on this listener, which turns res.push() off too.
    if (this.pushPlanner === undefined || !this.life.open) return undefined;
    if (parent.localFinQueued || parent.closed || !parent.isServerStream) return undefined;
    if (!this.pushes.mayOpen()) return undefined;
    const id = this.registry.takeLocalId();
    if (id === undefined) return undefined;
    // One step less urgent than the page that links it, so the page's own body goes first; but
    // the SYN_STREAM itself goes at the page's priority, ahead of the page's SYN_REPLY.
    const priority = Math.min(parent.priority + 1, 0xff >> this.version.priorityShift);
    const stream = new SpdyStream(this, id, priority, this.flow.peerInitialWindow, 0);
    stream.schedulingPriority = parent.schedulingPriority;
    stream.associatedStreamId = parent.id;
    stream.markRemoteDone(); // unidirectional: the client never sends on it
    this.registry.add(stream);
    this.pushes.opened(parent.id, stream);
    const body = resource.body;
    stream.open(pushHeaders(this.version, resource, resource.status, resource.headers), body?.length === 0, parent.id);
    if (body !== undefined && body.length > 0) stream.end(body);
    return stream;
  }

  private checkStalls(): void {
    if (this.streams.size === 0 || this.destroyed) return this.stallWatch!.stop();
    for (const stream of this.stallWatch!.check(this.streams.values(), this.socket.writableNeedDrain, this.scheduler.drains)) {
      this.streamError(new SpdyStreamError('SPRY_ERR_SPDY_STREAM_STALLED', stream.id, RstStatus.CANCEL, `stream ${stream.id} could not send for too long, or its session buffered too much`), 'stall');
    }
  }

  private onIdleTimeout(): void {
    if (this.life.ended) return;
    // A stream still waiting for its response is not idleness: the app, or a backend's own
    // --http-timeout (a 504), answers it. Streams that can only wait for the peer are. The
    // socket's timer re-arms on the next byte either way.
    if (this.streams.size > 0 && !StallWatch.allStalled(this.streams.values())) return;
    this.sendGoaway(GoawayStatus.OK);
    this.life.end();
    this.teardown(new SpryError('SPRY_ERR_SPDY_SESSION_CLOSED', 'the connection was idle too long'));
  }

  protected override teardown(reason: Error): void {
    this.stallWatch?.stop();
    super.teardown(reason);
  }
}
