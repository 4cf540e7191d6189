// spry as a library: `import { createServer } from 'spry'`.

export { createServer, type AppLike, type FetchHandler } from './api/create-server.ts';
export type { ServerOptions, SpdyOptions, TuningOptions } from './api/server-options.ts';
export type { SpryServer } from './api/spry-server.ts';
export type { SpryRequestFields } from './apps/node-listener.ts';
export type { Environ } from './exchange/environ.ts';
export { ConfigError, ErrorCodes, SpryError, type ErrorCode } from './errors.ts';
export type { PushCallback, PushOptions } from './api/node-http-fields.ts';
