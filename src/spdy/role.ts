// The two ends of a SPDY session differ in a few facts, kept here so the session never asks
// which end it is for them: the parity of the stream and PING ids each end picks (SPDY/3 §2.3.2,
// SPDY/3 §2.6.5), and what the server alone announces or may do.

export interface SessionRole {
  readonly name: 'server' | 'client';
  /** The first id of a stream we open: clients open odd ids, servers push on even ones. */
  readonly firstLocalStreamId: 1 | 2;
  /** The first PING id we send: the same parity as our streams. */
  readonly firstPingId: 1 | 2;
  /** The low bit of the stream and PING ids the peer picks. */
  readonly peerParity: 0 | 1;
  /** Servers announce SETTINGS_MAX_CONCURRENT_STREAMS on connect (the streams a client may open). */
  readonly announcesStreamLimit: boolean;
}

export const SERVER_ROLE: SessionRole = { name: 'server', firstLocalStreamId: 2, firstPingId: 2, peerParity: 1, announcesStreamLimit: true };
export const CLIENT_ROLE: SessionRole = { name: 'client', firstLocalStreamId: 1, firstPingId: 1, peerParity: 0, announcesStreamLimit: false };

export function sessionRole(name: 'server' | 'client'): SessionRole {
  return name === 'server' ? SERVER_ROLE : CLIENT_ROLE;
}

/** True if the peer picked this stream or PING id. */
export function isPeerId(role: SessionRole, id: number): boolean {
  return (id & 1) === role.peerParity;
}
