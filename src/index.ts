// spry as a library: `import { createServer } from 'spry'`. The cache API is also its own entry
// point (`spry/cache`), which apps served by the CLI import.

export { createServer, type AppLike, type FetchHandler } from './api/create-server.ts';
export type { ServerOptions, SpdyOptions, TuningOptions } from './api/server-options.ts';
export type { SpryServer } from './api/spry-server.ts';
export type { SpryRequestFields } from './apps/node-listener.ts';
export type { Environ } from './exchange/environ.ts';
export { ConfigError, ErrorCodes, SpryError, type ErrorCode } from './errors.ts';
export type { PushCallback, PushOptions } from './api/node-http-fields.ts';
export { cache, cacheNames } from './cache/api.ts';
export type { CachedResponse, CacheSetOptions, CacheStats, SpryCache } from './cache/api.ts';
