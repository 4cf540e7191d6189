// Just enough of Express 5's and Koa's types for these tests: the packages ship none, and only
// the frameworks themselves are dev dependencies (no @types/express, @types/koa).

declare module 'express' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface Request extends IncomingMessage {
    params: Record<string, string>;
    query: Record<string, unknown>;
    body: unknown;
    protocol: string;
    secure: boolean;
    get(field: string): string | undefined;
  }
  export interface Response extends ServerResponse {
    status(code: number): this;
    json(body: unknown): this;
    send(body?: unknown): this;
    set(field: string, value: string | string[]): this;
    append(field: string, value: string | string[]): this;
    sendFile(path: string, callback?: (error?: Error) => void): void;
  }
  export type NextFunction = (error?: unknown) => void;
  export type Handler = (req: Request, res: Response, next: NextFunction) => unknown;
  export interface Express {
    (req: IncomingMessage, res: ServerResponse): void;
    use(...handlers: Handler[]): this;
    get(path: string, ...handlers: Handler[]): this;
    post(path: string, ...handlers: Handler[]): this;
    set(setting: string, value: unknown): this;
  }
  interface ExpressFactory {
    (): Express;
    json(options?: { limit?: string }): Handler;
  }
  const express: ExpressFactory;
  export default express;
}

declare module 'koa' {
  import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

  export interface Context {
    readonly path: string;
    readonly method: string;
    readonly protocol: string;
    readonly secure: boolean;
    readonly request: { readonly secure: boolean; readonly protocol: string };
    readonly req: IncomingMessage;
    readonly res: ServerResponse;
    body: unknown;
    type: string;
    status: number;
    state: Record<string, unknown>;
    get(field: string): string;
    set(field: string, value: string | string[]): void;
    throw(status: number, message?: string): never;
  }
  export type Next = () => Promise<void>;
  export type Middleware = (ctx: Context, next: Next) => unknown;
  export default class Koa {
    silent: boolean;
    use(middleware: Middleware): this;
    callback(): RequestListener;
  }
}
