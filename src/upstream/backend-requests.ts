// What the forwarding app's requests and upgrades share: the headers an HTTP backend gets and
// the connection a uwsgi backend gets.

import { connect, type Socket } from 'node:net';
import { CONNECTION_HEADERS } from '../exchange/connection-headers.ts';
import type { RequestHead } from '../exchange/exchange.ts';
import type { BackendAddress } from '../config/config.ts';
import type { BackendNode } from './balancer.ts';

/** Headers that describe one hop, never forwarded to an HTTP backend. */
export const HOP_BY_HOP = new Set([...CONNECTION_HEADERS, 'te', 'trailer']);

/** Where httpBackendFields puts each field: one encoder per form of request head. */
interface FieldSink {
  add(name: string, value: string): void;
}

/**
 * The rules for what an HTTP backend gets for `head`, field by field into `sink`: the client's
 * headers but one hop's, Host as the request's authority, X-Forwarded-Host too when it has one,
 * X-Forwarded-For and Forwarded with this hop added (the client's repeated fields joined into
 * one), and X-Forwarded-Proto as the scheme. httpBackendHead and httpBackendHeaders encode them.
 * Host and X-Forwarded-Host are spry's alone, also for a request without an authority (HTTP/1.0
 * without Host): an HTTP/1.1 request carries Host, empty if need be (RFC 9112 §3.2), and a
 * client's X-Forwarded-Host would name a host it never asked.
 */
function httpBackendFields(head: RequestHead, sink: FieldSink): void {
  const hasAuthority = head.authority !== '';
  sink.add('host', head.authority);
  if (hasAuthority) sink.add('x-forwarded-host', head.authority);
  let forwardedFor: string | undefined;
  let forwarded: string | undefined;
  const flat = head.headers;
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i];
    const value = flat[i + 1];
    if (HOP_BY_HOP.has(name) || name === 'x-forwarded-proto') continue;
    if (name === 'host' || name === 'x-forwarded-host') continue;
    if (name === 'x-forwarded-for') forwardedFor = forwardedFor === undefined ? value : `${forwardedFor},${value}`;
    else if (name === 'forwarded') forwarded = forwarded === undefined ? value : `${forwarded}, ${value}`;
    else sink.add(name, value);
  }
  const remote = head.connection.remoteAddress;
  sink.add('x-forwarded-for', forwardedFor === undefined ? remote : `${forwardedFor}, ${remote}`);
  sink.add('x-forwarded-proto', head.scheme);
  sink.add('forwarded', withForwardedElement(head, forwarded));
}

/** The fields as HTTP/1.1 header lines. */
class HeadText implements FieldSink {
  text: string;

  constructor(requestLine: string) {
    this.text = requestLine;
  }

  add(name: string, value: string): void {
    this.text += `${name}: ${value}\r\n`;
  }
}

/** The fields as node:http's request headers take them: a repeated name's values in an array. */
class HeaderObject implements FieldSink {
  readonly headers: Record<string, string | string[]> = {};

  add(name: string, value: string): void {
    const previous = this.headers[name];
    if (previous === undefined) this.headers[name] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else this.headers[name] = [previous, value];
  }
}

/** The HTTP/1.1 request head an HTTP backend gets for `head` (httpBackendFields), and `framing` (a Transfer-Encoding line, or '') last. */
export function httpBackendHead(head: RequestHead, framing: string): string {
  const text = new HeadText(`${head.method} ${head.target} HTTP/1.1\r\n`);
  httpBackendFields(head, text);
  return `${text.text}${framing}\r\n`;
}

/** The same fields as node:http's request headers, for an upgrade (forwarded-upgrade.ts). */
export function httpBackendHeaders(head: RequestHead): Record<string, string | string[]> {
  const object = new HeaderObject();
  httpBackendFields(head, object);
  return object.headers;
}

/** The Forwarded value: the client's (if any), then this hop's element. */
function withForwardedElement(head: RequestHead, given: string | undefined): string {
  const element = forwardedElement(head.connection.remoteAddress, head.authority, head.scheme);
  return given === undefined ? element : `${given}, ${element}`;
}

/** RFC 7239 §4: `for=…;host=…;proto=…`, an IPv6 node as `"[v6]"`, values that are not tokens quoted. */
export function forwardedElement(remoteAddress: string, authority: string, scheme: string): string {
  const node = remoteAddress.includes(':') ? `"[${remoteAddress}]"` : remoteAddress;
  const host = authority === '' ? '' : `;host=${/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(authority) ? authority : `"${authority.replace(/["\\]/g, '\\$&')}"`}`;
  return `for=${node}${host};proto=${scheme}`;
}


/** Where node:http connects for an HTTP backend: host and port, or its unix socket. */
export function httpTarget(address: Extract<BackendAddress, { kind: 'http' }>): { host: string; port: number } | { socketPath: string } {
  return address.socketPath !== undefined ? { socketPath: address.socketPath } : { host: address.host, port: address.port };
}

/** A connection to a uwsgi backend. */
export function connectUwsgi(address: BackendNode['address']): Socket {
  return address.kind === 'uwsgi-unix' ? connect(address.path) : connect(address.kind === 'uwsgi' ? address.port : 0, address.kind === 'uwsgi' ? address.host : '');
}
