// Types for hello.cjs (the TypeScript check does not read JavaScript).
import type { IncomingMessage, ServerResponse } from 'node:http';

export declare function hello(req: IncomingMessage, res: ServerResponse): void;
