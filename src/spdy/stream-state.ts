// Where a SPDY stream is in its life (SPDY/3 §2.3.6-§2.3.7): one value instead of flags that
// must agree. "Local" and "remote" name who sent the FIN: a stream is half-closed on a side once
// that side's FIN went over the wire, closed once both did, and reset when it ended any other
// way (RST_STREAM from either side, or the session ending under it).

export const StreamState = {
  OPEN: 0,
  /** Our FIN is on the wire; the peer may still send. */
  HALF_CLOSED_LOCAL: 1,
  /** The peer's FIN arrived; we may still send. */
  HALF_CLOSED_REMOTE: 2,
  /** Both FINs went over the wire. */
  CLOSED: 3,
  /** Ended before both FINs: nothing more is sent or delivered. */
  RESET: 4,
} as const;
export type StreamState = (typeof StreamState)[keyof typeof StreamState];

/** The state after the peer's FIN arrives (unchanged once closed or reset). */
export function afterRemoteFin(state: StreamState): StreamState {
  if (state === StreamState.OPEN) return StreamState.HALF_CLOSED_REMOTE;
  if (state === StreamState.HALF_CLOSED_LOCAL) return StreamState.CLOSED;
  return state;
}

/** The state after our FIN is written (unchanged once closed or reset). */
export function afterLocalFin(state: StreamState): StreamState {
  if (state === StreamState.OPEN) return StreamState.HALF_CLOSED_LOCAL;
  if (state === StreamState.HALF_CLOSED_REMOTE) return StreamState.CLOSED;
  return state;
}

/** How far our side's frames have been queued (not sent: the scheduler decides when). */
export const SendPhase = {
  /** Nothing queued yet: the response head (or our SYN_STREAM) is still to come. */
  AWAITING_HEAD: 0,
  /** The head is queued; body frames may follow. */
  BODY: 1,
  /** The FIN is queued: nothing more may be written. */
  FIN_QUEUED: 2,
} as const;
export type SendPhase = (typeof SendPhase)[keyof typeof SendPhase];
