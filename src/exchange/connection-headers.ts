// Headers that describe one connection, not the message: meaningless on a multiplexed stream
// (docs/spdy-protocol.md §4, HTTP/2 RFC 9113 §8.2.2, where node:http2 throws on them) and never forwarded from
// one hop to the next. Every front end and the forwarding app drop them through this one set.

export const CONNECTION_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);
