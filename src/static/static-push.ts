// Static files as push sources: a `Link: rel=preload` to a file under a static mount is pushed
// like a cached one. The planner decides synchronously (before the response head goes out), so
// the file is found with sync calls; its body then streams into the push with backpressure.

import { open, realpathSync, statSync, constants as fsConstants } from 'node:fs';
import { extname, sep } from 'node:path';
import { contentTypeFor } from '../cache/content-type.ts';
import type { FlatHeaders } from '../exchange/exchange.ts';
import { validatorsOf } from './conditional.ts';
import { pumpFile } from './file-pump.ts';
import type { StaticFilesConfig } from './static-config.ts';
import { staticCandidates } from './static-path.ts';

/** A file a push may send: where it is and the pushed response's headers. */
export interface PushableFile {
  readonly path: string;
  readonly size: number;
  readonly headers: FlatHeaders;
}

export function findPushableFile(config: StaticFilesConfig, urlPath: string): PushableFile | undefined {
  for (const candidate of staticCandidates(config, urlPath)) {
    if (candidate.kind !== 'file') return undefined;
    try {
      const real = realpathSync.native(candidate.path);
      if (real !== candidate.root && !real.startsWith(candidate.root + sep)) return undefined;
      if (config.skipExtensions.includes(extname(real).toLowerCase())) continue;
      const stats = statSync(real);
      if (!stats.isFile()) continue;
      const validators = validatorsOf(stats);
      const headers = ['content-type', contentTypeFor(real), 'content-length', String(stats.size), 'etag', validators.etag, 'last-modified', validators.lastModified];
      return { path: real, size: stats.size, headers };
    } catch {
      continue; // missing here: the next candidate, or nothing to push
    }
  }
  return undefined;
}

/** Streams `file` into a push's body (an empty file ends it at once). */
export function sendPushedFile(file: PushableFile, sink: Parameters<typeof pumpFile>[3]): void {
  if (file.size === 0) return sink.end();
  open(file.path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK, (error, fd) => {
    if (error !== null) return sink.abort();
    pumpFile(fd, 0, file.size - 1, sink);
  });
}
