// Micro benchmarks of the uwsgi packet codec: encoding a request's vars (what --http-to does per
// request) and decoding them (what --socket does).

import { decodeVars, encodeUwsgiRequest, UWSGI_HEADER_BYTES } from '../../src/uwsgi/packet.ts';
import type { MicroCase } from './harness.ts';

/** A typical environment for a browser GET, as spry builds it for a uwsgi backend. */
export const ENVIRON: Record<string, string> = {
  REQUEST_METHOD: 'GET',
  REQUEST_URI: '/assets/app.js?v=3',
  PATH_INFO: '/assets/app.js',
  QUERY_STRING: 'v=3',
  SERVER_PROTOCOL: 'HTTP/1.1',
  SCRIPT_NAME: '',
  SERVER_NAME: 'www.example.com',
  SERVER_PORT: '443',
  REMOTE_ADDR: '192.0.2.10',
  REMOTE_PORT: '51234',
  HTTPS: 'on',
  'wsgi.url_scheme': 'https',
  UWSGI_ROUTER: 'http',
  HTTP_HOST: 'www.example.com',
  HTTP_ACCEPT: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  HTTP_ACCEPT_ENCODING: 'gzip, deflate, br',
  HTTP_ACCEPT_LANGUAGE: 'en-GB,en;q=0.9',
  HTTP_COOKIE: 'session=4f1c2e9a7b3d; theme=dark; consent=yes',
  HTTP_USER_AGENT: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  HTTP_CONNECTION: 'keep-alive',
};

export function uwsgiCases(): MicroCase[] {
  const packet = encodeUwsgiRequest(ENVIRON);
  const vars = packet.subarray(UWSGI_HEADER_BYTES);
  return [
    { name: `encodeUwsgiRequest (${Object.keys(ENVIRON).length} vars, ${packet.length} bytes)`, fn: () => encodeUwsgiRequest(ENVIRON).length, bytesPerCall: packet.length },
    { name: `decodeVars (${vars.length} bytes)`, fn: () => Object.keys(decodeVars(vars)).length, bytesPerCall: vars.length },
  ];
}
