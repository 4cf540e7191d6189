// Listen addresses in uWSGI's spelling: `host:port`, `:port` (all interfaces), `[v6]:port`,
// `=N` (the Nth --shared-socket), a unix socket path (anything with a `/`), `@name` (a Linux
// abstract unix socket) and `fd://N` (a descriptor the process inherited: systemd socket
// activation).

import { isIP } from 'node:net';
import { ConfigError } from '../errors.ts';
import type { ListenAddress } from '../config/config.ts';

const MAX_PORT = 65_535;
// Letters, digits, dots and hyphens: DNS names and dotted IPv4.
const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/**
 * Parses `text`, given to `option`; `key` is the keyval key it came from (`addr`), if any, so
 * messages read `--https2: addr=:99999: port must be …`.
 */
export function parseAddress(option: string, text: string, key?: string): ListenAddress {
  const culprit = key === undefined ? `"${text}"` : `${key}=${text}`;
  const fail = (problem: string): never => {
    throw new ConfigError(option, `${culprit}: ${problem}`);
  };
  if (text === '') fail('empty address (expected host:port, :port, =N, a unix socket path, @name or fd://N)');

  if (text.startsWith('=')) {
    const index = text.slice(1);
    if (!/^\d{1,9}$/.test(index)) fail('a shared socket is =N, with N a number from 0');
    return { kind: 'shared', index: Number(index) };
  }

  if (text.startsWith('fd://')) {
    const fd = text.slice(5);
    if (!/^\d{1,9}$/.test(fd)) fail('an inherited socket is fd://N, with N a descriptor number');
    return { kind: 'fd', fd: Number(fd) };
  }
  if (text.startsWith('@')) {
    if (text.length === 1) fail('an abstract socket needs a name after @');
    return { kind: 'unix', path: `\0${text.slice(1)}` };
  }
  if (text.includes('/')) return { kind: 'unix', path: text };
  if (!text.includes(':')) fail('no port (expected host:port, :port, =N, a unix socket path, @name or fd://N)');

  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1 || text[close + 1] !== ':') fail('expected [ipv6]:port');
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (isIP(host) !== 6) fail(`"${host}" is not an IPv6 address`);
  } else {
    const colon = text.lastIndexOf(':');
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) fail(`write IPv6 addresses in brackets: [${host}]:${portText}`);
    if (host === '') host = '0.0.0.0';
    else if (!HOST_NAME.test(host)) fail(`"${host}" is not a host name or IPv4 address`);
  }

  if (!/^\d{1,5}$/.test(portText) || Number(portText) > MAX_PORT) {
    fail(`port must be a number from 0 to ${MAX_PORT}`);
  }
  return { kind: 'tcp', host, port: Number(portText) };
}

/** The address as uWSGI would spell it, for messages. */
export function formatAddress(address: ListenAddress): string {
  if (address.kind === 'shared') return `=${address.index}`;
  if (address.kind === 'unix') return address.path.startsWith('\0') ? `@${address.path.slice(1)}` : address.path;
  if (address.kind === 'fd') return `fd://${address.fd}`;
  return isIP(address.host) === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
