// The option table: every option spry knows, one entry each, with its parse function.

import { ConfigError } from '../errors.ts';
import { availableParallelism } from 'node:os';
import { DEFAULTS, type HttpListenerConfig, type ProcessConfig, type SniConfig, type SpryConfig, type StreamTuning } from '../config/config.ts';
import { parseAddress } from './address.ts';
import { generateSelfSignedCertificate, type PemPair } from '../tls/self-signed.ts';
import { tokenizeArgv, type ArgvOptionShape, type ArgvToken } from './argv.ts';
import { loadFilesIntoCaches, parseCache2, type CacheDraft, type LoadFileRequest } from './cache2.ts';
import { parseHttps2, type ParsedHttps2 } from './https2.ts';
import { parseTuningValue, TUNING_KEYS } from './tuning.ts';
import type { BackendAddress } from '../config/config.ts';
import { mergeIni, readIniTokens } from './ini.ts';
import { parseModuleSpec, type ModuleSpec } from './module-spec.ts';
import { parseInteger } from './numbers.ts';
import { OBSERVE_OPTIONS, observeConfig, type ObserveDraft } from './observe-options.ts';
import { resolveOwner } from '../master/privileges.ts';
import { moduleLanguage } from '../wsgi/detect.ts';
import { PYTHON_OPTIONS, pythonConfig, setPythonModule, wantsPython, type PythonDraft } from './python-options.ts';
import { EDGE_OPTIONS, emptyEdgeDraft, finishEdge, type EdgeDraft } from './edge-options.ts';
import { sniConfig, TLS_OPTIONS, type TlsDraft } from './tls-options.ts';

/** The configuration as options fill it in, before the required ones are checked. */
interface ConfigDraft {
  readonly https2: ParsedHttps2[];
  /** Global tuning options: the defaults every listener starts from. */
  readonly tuning: Partial<Record<keyof StreamTuning, number>>;
  readonly caches: CacheDraft[];
  readonly loadFiles: LoadFileRequest[];
  readonly http: HttpListenerConfig[];
  readonly uwsgi: HttpListenerConfig[];
  readonly sharedSockets: ProcessConfig['sharedSockets'][number][];
  readonly touchReload: string[];
  readonly httpTo: BackendAddress[];
  readonly vars: Record<string, string>;
  gracetimeMs?: number;
  uid?: string;
  gid?: string;
  refuseRoot?: boolean;
  workers?: number;
  master?: boolean;
  workerReloadMercyMs?: number;
  reloadMercyMs?: number;
  pidfile?: string;
  module?: ModuleSpec;
  httpTimeoutMs?: number;
  readonly observe: ObserveDraft;
  readonly tls: TlsDraft;
  readonly python: PythonDraft;
  socketMode?: number;
  socketOwner?: { uid: number; gid: number };
  vacuum?: boolean;
  /** One generated certificate, shared by every listener given no cert= and key=. */
  readonly selfSigned: () => Promise<PemPair>;
  /** Static files, --harakiri, --http-to-https, --hsts (edge-options.ts). */
  readonly edge: EdgeDraft;
}

export interface OptionSpec<Draft = ConfigDraft> extends ArgvOptionShape {
  readonly repeats: boolean;
  /** How the value is written, for --help (`KEYVAL`, `SECONDS`). */
  readonly valueHint?: string;
  readonly summary: string;
  /** `raw` is the option as the user spelled it, for messages. */
  readonly apply: (value: string | undefined, raw: string, draft: Draft) => void | Promise<void>;
}

// Node's timers hold at most 2^31-1 ms.
const MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** Handled by main before parsing; listed here so the tokeniser and --help know them. */
const handledByMain = (): void => {};

export const OPTIONS: readonly OptionSpec[] = [
  {
    name: 'https2', aliases: [], takesValue: true, repeats: true, valueHint: 'KEYVAL',
    summary: 'TLS router: addr=A[,cert=C,key=K][,spdy=1][,…]; ALPN picks h2, spdy/3.1, spdy/3, spdy/2 or http/1.1',
    apply: async (value, raw, draft) => {
      draft.https2.push(await parseHttps2(raw, value ?? '', draft.selfSigned));
    },
  },
  {
    name: 'module', aliases: [], takesValue: true, repeats: false, valueHint: 'PATH[:EXPORT]',
    summary: 'the app: a Node (req, res) listener or a fetch-style handler exported by PATH, or a Python WSGI module (dotted.name[:callable]) run under uWSGI; node:PATH / py:NAME force the choice',
    apply: (value, raw, draft) => {
      const choice = moduleLanguage(value ?? '');
      if (choice.language === 'python') setPythonModule(raw, choice.name, draft.python);
      else draft.module = parseModuleSpec(raw, choice.name);
    },
  },
  {
    name: 'http-timeout', aliases: [], takesValue: true, repeats: false, valueHint: 'SECONDS',
    summary: `close client connections idle this long, SPDY included (default ${DEFAULTS.httpTimeoutMs / 1000})`,
    apply: (value, raw, draft) => {
      const text = value ?? '';
      draft.httpTimeoutMs = 1000 * parseInteger(raw, `"${text}"`, text, { min: 1, max: MAX_TIMEOUT_SECONDS, unit: 'seconds' });
    },
  },
  {
    name: 'http', aliases: ['--http-socket'], takesValue: true, repeats: true, valueHint: 'ADDR',
    summary: 'plain router on ADDR: HTTP/1.1, and HTTP/2 with prior knowledge (h2c)',
    apply: (value, raw, draft) => {
      const text = value ?? '';
      draft.http.push({ source: text, addr: parseAddress(raw, text) });
    },
  },
  {
    name: 'shared-socket', aliases: [], takesValue: true, repeats: true, valueHint: 'ADDR',
    summary: 'bind ADDR in the master before privileges drop; =0, =1, … refer to them in order',
    apply: (value, raw, draft) => {
      const text = value ?? '';
      const addr = parseAddress(raw, text);
      if (addr.kind === 'shared') throw new ConfigError(raw, `"${text}": a shared socket needs a real address, not a reference`);
      draft.sharedSockets.push({ source: text, addr });
    },
  },
  {
    name: 'chmod-socket', aliases: [], takesValue: true, optionalValue: true, repeats: false, valueHint: '[=MODE]',
    summary: 'give unix socket files this octal mode once bound (bare: 666)',
    apply: (value, raw, draft) => {
      const text = value ?? '666';
      if (!/^[0-7]{3,4}$/.test(text)) throw new ConfigError(raw, `"${text}": expected an octal mode such as 660`);
      draft.socketMode = Number.parseInt(text, 8);
    },
  },
  {
    name: 'chown-socket', aliases: [], takesValue: true, repeats: false, valueHint: 'USER[:GROUP]',
    summary: 'give unix socket files this owner once bound',
    apply: (value, raw, draft) => {
      draft.socketOwner = resolveOwner(raw, value ?? '');
    },
  },
  {
    name: 'vacuum', aliases: [], takesValue: false, repeats: false,
    summary: 'remove unix socket files and the pidfile when spry exits',
    apply: (_value, _raw, draft) => {
      draft.vacuum = true;
    },
  },
  {
    name: 'uid', aliases: [], takesValue: true, repeats: false, valueHint: 'USER',
    summary: 'drop privileges to USER (name or number) after binding, before loading the app',
    apply: (value, raw, draft) => {
      draft.uid = nonEmpty(raw, value);
    },
  },
  {
    name: 'gid', aliases: [], takesValue: true, repeats: false, valueHint: 'GROUP',
    summary: 'drop privileges to GROUP (name or number) after binding',
    apply: (value, raw, draft) => {
      draft.gid = nonEmpty(raw, value);
    },
  },
  {
    name: 'refuse-root', aliases: [], takesValue: false, repeats: false,
    summary: 'refuse to run the app as root (after any --uid)',
    apply: (_value, _raw, draft) => {
      draft.refuseRoot = true;
    },
  },
  {
    name: 'processes', aliases: ['-p', '--workers'], takesValue: true, repeats: false, valueHint: 'N',
    summary: 'run N workers sharing the listeners (auto: one per core)',
    apply: (value, raw, draft) => {
      const text = value ?? '';
      draft.workers = text === 'auto' ? availableParallelism() : parseInteger(raw, `"${text}"`, text, { min: 1, max: 1024, unit: 'workers' });
    },
  },
  {
    name: 'master', aliases: [], takesValue: false, repeats: false,
    summary: 'run a master process supervising the workers (implied by -p N>1, shared sockets, --uid)',
    apply: (_value, _raw, draft) => {
      draft.master = true;
    },
  },
  {
    name: 'worker-reload-mercy', aliases: [], takesValue: true, repeats: false, valueHint: 'SECONDS',
    summary: `how long a worker may finish in-flight requests on reload or stop (default ${DEFAULTS.workerReloadMercyMs / 1000})`,
    apply: (value, raw, draft) => {
      draft.workerReloadMercyMs = seconds(raw, value);
    },
  },
  {
    name: 'reload-mercy', aliases: [], takesValue: true, repeats: false, valueHint: 'SECONDS',
    summary: `how long a whole reload or shutdown may take before workers are killed (default ${DEFAULTS.reloadMercyMs / 1000})`,
    apply: (value, raw, draft) => {
      draft.reloadMercyMs = seconds(raw, value);
    },
  },
  {
    name: 'pidfile', aliases: [], takesValue: true, repeats: false, valueHint: 'FILE',
    summary: 'write the master\'s pid to FILE',
    apply: (value, raw, draft) => {
      draft.pidfile = nonEmpty(raw, value);
    },
  },
  {
    name: 'touch-reload', aliases: [], takesValue: true, repeats: true, valueHint: 'FILE',
    summary: 'reload gracefully when FILE\'s modification time changes',
    apply: (value, raw, draft) => {
      draft.touchReload.push(nonEmpty(raw, value));
    },
  },
  {
    name: 'http-to', aliases: [], takesValue: true, repeats: true, valueHint: 'ADDR',
    summary: 'forward requests to ADDR over uwsgi (host:port or a unix socket path) or HTTP (http://host:port); repeat to balance',
    apply: (value, raw, draft) => {
      draft.httpTo.push(parseBackend(raw, value ?? ''));
    },
  },
  {
    name: 'http-gracetime', aliases: [], takesValue: true, repeats: false, valueHint: 'SECONDS',
    summary: `leave a backend that refused a connection alone this long (default ${DEFAULTS.httpGracetimeMs / 1000})`,
    apply: (value, raw, draft) => {
      draft.gracetimeMs = seconds(raw, value);
    },
  },
  {
    name: 'http-var', aliases: [], takesValue: true, repeats: true, valueHint: 'KEY=VALUE',
    summary: 'add a variable to every request forwarded over uwsgi',
    apply: (value, raw, draft) => {
      const text = value ?? '';
      const equals = text.indexOf('=');
      if (equals <= 0) throw new ConfigError(raw, `"${text}" is not KEY=VALUE`);
      draft.vars[text.slice(0, equals)] = text.slice(equals + 1);
    },
  },
  {
    name: 'socket', aliases: ['-s', '--uwsgi-socket'], takesValue: true, repeats: true, valueHint: 'ADDR',
    summary: 'serve the app over the uwsgi protocol on ADDR (for nginx uwsgi_pass, uWSGI routers)',
    apply: (value, raw, draft) => {
      const text = value ?? '';
      draft.uwsgi.push({ source: text, addr: parseAddress(raw, text) });
    },
  },
  {
    name: 'ini', aliases: [], takesValue: true, repeats: true, valueHint: 'FILE',
    summary: 'read options from a uWSGI ini file: section [uwsgi] (FILE:NAME for [NAME]), then [spry]; the command line wins',
    apply: () => {}, // expanded before parsing, see parseTokens
  },
  {
    name: 'cache2', aliases: [], takesValue: true, repeats: true, valueHint: 'KEYVAL',
    summary: 'in-memory LRU cache shared by the workers: name=N,items=I[,blocksize=B][,blocks=K][,keysize=S][,bitmap=1][,purge_lru=0]',
    apply: (value, raw, draft) => {
      const cache = parseCache2(raw, value ?? '');
      if (draft.caches.some((other) => other.name === cache.name)) throw new ConfigError(raw, `a cache named "${cache.name}" already exists`);
      draft.caches.push(cache);
    },
  },
  {
    name: 'load-file-in-cache', aliases: [], takesValue: true, repeats: true, valueHint: '[CACHE ]FILE|/PATH=FILE',
    summary: 'put FILE in a cache at startup, keyed FILE or /PATH (a directory: every file under /PATH/); source of SPDY/h2 push',
    apply: (value, raw, draft) => {
      draft.loadFiles.push({ raw, text: value ?? '' });
    },
  },
  ...OBSERVE_OPTIONS,
  ...TLS_OPTIONS,
  ...PYTHON_OPTIONS,
  ...TUNING_KEYS.map((key): OptionSpec => ({
    name: key.name, aliases: [], takesValue: true, repeats: false, valueHint: 'N',
    summary: `${key.summary}; the --https2 key of the same name overrides it per listener`,
    apply: (value, raw, draft) => {
      const text = value ?? '';
      draft.tuning[key.field] = parseTuningValue(raw, `"${text}"`, key, text);
    },
  })),
  // The edge: static files, --harakiri, --http-to-https, --hsts.
  ...EDGE_OPTIONS.map((edge): OptionSpec => ({
    name: edge.name, aliases: [], takesValue: edge.takesValue, repeats: edge.repeats, summary: edge.summary,
    ...(edge.valueHint === undefined ? {} : { valueHint: edge.valueHint }),
    apply: (value, raw, draft) => edge.apply(value, raw, draft.edge),
  })),
  {
    name: 'help', aliases: ['-h'], takesValue: false, repeats: true,
    summary: 'print this help and exit', apply: handledByMain,
  },
  {
    name: 'version', aliases: [], takesValue: false, repeats: true,
    summary: 'print spry\'s version and exit', apply: handledByMain,
  },
];

export function tokenizeCommandLine(argv: readonly string[]): ArgvToken[] {
  return tokenizeArgv(argv, OPTIONS);
}

/** Turns argv (without node and the script) into a checked configuration. */
export async function parseCommandLine(argv: readonly string[]): Promise<SpryConfig> {
  return parseTokens(tokenizeCommandLine(argv));
}

export async function parseTokens(commandLine: readonly ArgvToken[]): Promise<SpryConfig> {
  const files = commandLine.filter((token) => token.name === 'ini').map((token) => readIniTokens(token.raw, token.value ?? '', OPTIONS));
  for (const warning of files.flatMap((file) => file.warnings)) process.stderr.write(`spry: ${warning}\n`);
  const tokens = mergeIni(files.flatMap((file) => file.tokens), commandLine.filter((token) => token.name !== 'ini'));
  let certificate: Promise<PemPair> | undefined;
  const draft: ConfigDraft = {
    https2: [],
    tuning: {},
    caches: [],
    loadFiles: [],
    http: [],
    uwsgi: [],
    sharedSockets: [],
    touchReload: [],
    httpTo: [],
    vars: {},
    observe: { touchLogreopen: [] },
    tls: { entries: [], touchCerts: [] },
    python: { pythonPath: [], plugins: [] },
    selfSigned: () => (certificate ??= generateSelfSignedCertificate()),
    edge: emptyEdgeDraft(),
  };

  const seen = new Set<string>();
  for (const token of tokens) {
    const spec = OPTIONS.find((option) => option.name === token.name);
    if (spec === undefined) throw new ConfigError(token.raw, 'unknown option');
    if (seen.has(spec.name) && !spec.repeats) throw new ConfigError(token.raw, 'given more than once');
    seen.add(spec.name);
    // In order, one at a time: the first bad option is the one reported.
    await spec.apply(token.value, token.raw, draft);
  }

  if (draft.https2.length === 0 && draft.http.length === 0 && draft.uwsgi.length === 0) {
    throw new ConfigError('--https2', 'at least one --https2 or --http listener is required (e.g. --https2 addr=:8443)');
  }
  checkSharedReferences(draft);
  if ((draft.module !== undefined || wantsPython(draft.python)) && draft.httpTo.length > 0) {
    throw new ConfigError('--http-to', 'forwards every request, so it cannot go with --module: choose one');
  }
  if (draft.module !== undefined && wantsPython(draft.python)) {
    throw new ConfigError('--module', `${draft.module.source} is a Node app, and a Python app is given too: choose one`);
  }
  const python = pythonConfig(draft.python);
  if (draft.module === undefined && python === undefined && draft.httpTo.length === 0) {
    throw new ConfigError('--module', 'required: the app to run (e.g. --module ./app.ts:handler), or --http-to backends');
  }
  const caches = loadFilesIntoCaches(draft.caches, draft.loadFiles);
  for (const { listener } of draft.https2) {
    if (listener.pushCache !== undefined && !caches.some((cache) => cache.name === listener.pushCache)) {
      throw new ConfigError('--https2', `${listener.source}: push-cache=${listener.pushCache} names no --cache2 (${caches.length === 0 ? 'there is none' : `known: ${caches.map((cache) => cache.name).join(', ')}`})`);
    }
  }
  const tuning: StreamTuning = { ...DEFAULTS.tuning, ...draft.tuning };
  const edge = finishEdge(draft.edge, firstHttpsPort(draft));
  return {
    ...(edge === undefined ? {} : { edge }),
    https2: draft.https2.map(({ listener, tuning: own }) => ({ ...listener, tuning: { ...tuning, ...own } })),
    tuning,
    caches,
    http: draft.http,
    uwsgi: draft.uwsgi,
    ...(draft.module === undefined ? {} : { module: draft.module }),
    ...(python === undefined ? {} : { python }),
    ...(draft.httpTo.length === 0 ? {} : { upstream: { nodes: draft.httpTo, gracetimeMs: draft.gracetimeMs ?? DEFAULTS.httpGracetimeMs, vars: draft.vars } }),
    processes: {
      sharedSockets: draft.sharedSockets,
      ...(draft.uid === undefined ? {} : { uid: draft.uid }),
      ...(draft.gid === undefined ? {} : { gid: draft.gid }),
      refuseRoot: draft.refuseRoot ?? false,
      workers: draft.workers ?? 1,
      master: draft.master ?? false,
      workerReloadMercyMs: draft.workerReloadMercyMs ?? DEFAULTS.workerReloadMercyMs,
      reloadMercyMs: draft.reloadMercyMs ?? DEFAULTS.reloadMercyMs,
      ...(draft.pidfile === undefined ? {} : { pidfile: draft.pidfile }),
      touchReload: draft.touchReload,
    },
    httpTimeoutMs: draft.httpTimeoutMs ?? DEFAULTS.httpTimeoutMs,
    observe: observeConfig(draft.observe),
    unixSockets: {
      ...(draft.socketMode === undefined ? {} : { mode: draft.socketMode }),
      ...(draft.socketOwner === undefined ? {} : { owner: draft.socketOwner }),
      vacuum: draft.vacuum ?? false,
    },
    ...withSni(draft.tls, draft.https2.length),
  };
}

/** The SNI options, which only --https2 listeners use. */
function withSni(tls: TlsDraft, https2Count: number): { sni?: SniConfig } {
  const sni = sniConfig(tls);
  if (sni === undefined) return {};
  if (https2Count === 0 && (sni.entries.length > 0 || sni.dir !== undefined)) {
    throw new ConfigError(sni.dir !== undefined ? '--sni-dir' : '--sni', 'chooses certificates for --https2 listeners, and there is none');
  }
  return { sni };
}

/** Every `=N` must name a --shared-socket, and no socket may serve two listeners. */
function checkSharedReferences(draft: ConfigDraft): void {
  const users = new Map<number, string>();
  const listeners = [
    ...draft.https2.map(({ listener }) => ({ option: '--https2', source: listener.source, addr: listener.addr })),
    ...draft.http.map((listener) => ({ option: '--http', source: listener.source, addr: listener.addr })),
    ...draft.uwsgi.map((listener) => ({ option: '--socket', source: listener.source, addr: listener.addr })),
  ];
  for (const { option, source, addr } of listeners) {
    if (addr.kind !== 'shared') continue;
    const count = draft.sharedSockets.length;
    if (addr.index >= count) {
      throw new ConfigError(option, `${source}: =${addr.index} names no shared socket (${count === 0 ? 'there is no --shared-socket' : `there ${count === 1 ? 'is 1' : `are ${count}`}: =0${count > 1 ? `…=${count - 1}` : ''}`})`);
    }
    const other = users.get(addr.index);
    if (other !== undefined) throw new ConfigError(option, `${source}: shared socket =${addr.index} already serves ${other}`);
    users.set(addr.index, `${option} ${source}`);
  }
}

/** The port the first --https2 listener binds (a shared socket's own), for --http-to-https. */
function firstHttpsPort(draft: ConfigDraft): number | undefined {
  const addr = draft.https2[0]?.listener.addr;
  if (addr === undefined) return undefined;
  if (addr.kind === 'tcp') return addr.port;
  if (addr.kind !== 'shared') return undefined; // a unix socket or an inherited one: no port to name
  const shared = draft.sharedSockets[addr.index]?.addr;
  return shared?.kind === 'tcp' ? shared.port : undefined;
}

function nonEmpty(raw: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new ConfigError(raw, 'needs a value');
  return value;
}

function seconds(raw: string, value: string | undefined): number {
  const text = value ?? '';
  return 1000 * parseInteger(raw, `"${text}"`, text, { min: 1, max: MAX_TIMEOUT_SECONDS, unit: 'seconds' });
}

/** `host:port` or a unix socket path: uwsgi; `http://host:port`: HTTP/1.1. */
function parseBackend(raw: string, text: string): BackendAddress {
  // An HTTP backend on a unix socket, spelled as spry's startup lines name such a listener.
  if (text.startsWith('http+unix:')) {
    const socketPath = text.slice('http+unix:'.length);
    if (!socketPath.includes('/')) throw new ConfigError(raw, `"${text}": expected http+unix:/path/to/socket`);
    return { kind: 'http', host: 'localhost', port: 0, socketPath };
  }
  if (text.startsWith('http://')) {
    const address = parseAddress(raw, text.slice('http://'.length).replace(/\/$/, ''));
    if (address.kind !== 'tcp') throw new ConfigError(raw, `"${text}": expected http://host:port`);
    return { kind: 'http', host: address.host === '0.0.0.0' ? '127.0.0.1' : address.host, port: address.port };
  }
  if (text.startsWith('/') || text.startsWith('./')) return { kind: 'uwsgi-unix', path: text };
  const address = parseAddress(raw, text);
  if (address.kind !== 'tcp') throw new ConfigError(raw, `"${text}": a backend is host:port, a unix socket path, http://host:port or http+unix:/path`);
  return { kind: 'uwsgi', host: address.host === '0.0.0.0' ? '127.0.0.1' : address.host, port: address.port };
}
