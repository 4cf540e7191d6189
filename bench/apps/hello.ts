// The benchmark's hello-world app as spry loads it (`--module ./bench/apps/hello.ts:hello`): a
// Node (req, res) listener. The code lives in hello.cjs so that node-spdy's server, which runs on
// Node 20, runs exactly the same handler.

import type { IncomingMessage, ServerResponse } from 'node:http';
import handler from './hello.cjs';

export const hello: (req: IncomingMessage, res: ServerResponse) => void = handler.hello;
export default hello;
