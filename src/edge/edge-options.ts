// What a listener does to every request before (and around) its app: uWSGI's --limit-post,
// --harakiri, --http-to-https and the HSTS header, plus the static mounts served in its stead.

import type { StaticFilesConfig } from '../static/static-config.ts';

export interface EdgeOptions {
  /** --static-map and friends: files answered before the app. */
  readonly staticFiles?: StaticFilesConfig;
  /** --harakiri: a request not answered within this gets 504 (or a reset). */
  readonly harakiriMs?: number;
  /** --hsts on TLS listeners: Strict-Transport-Security max-age. */
  readonly hstsSeconds?: number;
  /** --http-to-https on --http listeners: every request is a 301 to this https port. */
  readonly httpsPort?: number;
}

/** Why a request is cut short, and what it is answered with while nothing was sent yet. */
export const EDGE_FAILURES = {
  'body-too-large': { status: 413, code: 'SPRY_ERR_BODY_TOO_LARGE', body: 'request body too large\n' },
  harakiri: { status: 504, code: 'SPRY_ERR_HARAKIRI', body: 'the app did not answer in time\n' },
} as const;

export type EdgeFailure = keyof typeof EDGE_FAILURES;
