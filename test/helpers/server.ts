// Starts a real spry server in this process on 127.0.0.1 port 0, with a self-signed certificate
// made once per test process, serving the given app (the test app by default).

import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';
import { appFromExport } from '../../src/apps/load-module.ts';
import { DEFAULTS, type Https2ListenerConfig, type StreamTuning } from '../../src/config/config.ts';
import { httpsPlan, startListener } from '../../src/listen/handlers.ts';
import type { Listener } from '../../src/listen/connection-handler.ts';
import { generateSelfSignedCertificate } from '../../src/tls/self-signed.ts';
import { testApp } from '../../examples/testapp.ts';

let certificate: Promise<{ cert: string; key: string }> | undefined;

export function testCertificate(): Promise<{ cert: string; key: string }> {
  return (certificate ??= generateSelfSignedCertificate());
}

export interface TestServerOptions {
  /** A Node listener, a fetch handler, or an object with fetch (as --module would export). */
  readonly app?: RequestListener | ((request: Request) => Response | Promise<Response>) | object;
  readonly tuning?: Partial<StreamTuning>;
  readonly httpTimeoutMs?: number;
  readonly spdy?: boolean;
  readonly h2?: boolean;
  /** Push cached resources named by Link: rel=preload (default true, as push=1). */
  readonly push?: boolean;
  readonly pushCache?: string;
}

export interface TestServer {
  readonly port: number;
  readonly listener: Listener;
  close(): Promise<void>;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const { cert, key } = await testCertificate();
  const config: Https2ListenerConfig = {
    source: 'addr=127.0.0.1:0,spdy=1',
    addr: { kind: 'tcp', host: '127.0.0.1', port: 0 },
    cert,
    key,
    selfSigned: true,
    spdy: options.spdy ?? true,
    h2: options.h2 ?? true,
    push: options.push ?? true,
    ...(options.pushCache === undefined ? {} : { pushCache: options.pushCache }),
    tuning: { ...DEFAULTS.tuning, ...options.tuning },
  };
  const app = appFromExport(options.app ?? testApp, 'test');
  const listener = await startListener(httpsPlan(config), app, options.httpTimeoutMs ?? DEFAULTS.httpTimeoutMs);
  return { port: (listener.address as AddressInfo).port, listener, close: () => listener.close() };
}
