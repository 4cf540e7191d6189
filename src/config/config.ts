// The typed configuration spry runs from, produced by src/cli from argv (and, later, ini files).
// Every size carries its unit in its name; defaults live in DEFAULTS below, with the why.

import type { StaticFilesConfig } from '../static/static-config.ts';

/**
 * Where a listener binds: a TCP host/port, a unix socket path (`@name`: a Linux abstract
 * socket, stored with its leading NUL), an inherited descriptor (`fd://N`, systemd socket
 * activation), or a reference to a shared socket (`=N`).
 */
export type ListenAddress =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string }
  | { kind: 'fd'; fd: number }
  | { kind: 'shared'; index: number };

/** An address that binds by itself (a shared socket's, or a listener's own). */
export type BindableAddress = Exclude<ListenAddress, { kind: 'shared' }>;

/** What --chmod-socket, --chown-socket and --vacuum ask of the unix sockets spry creates. */
export interface UnixSocketConfig {
  /** File mode given to each socket file after it is bound (uWSGI's default for a bare --chmod-socket: 0666). */
  readonly mode?: number;
  /** Owner given to each socket file (names resolved at startup). */
  readonly owner?: { readonly uid: number; readonly gid: number };
  /** Remove socket files and the pidfile when spry exits. */
  readonly vacuum: boolean;
}

/** One `--https2` listener. */
export interface Https2ListenerConfig {
  /** The keyval exactly as written, for messages. */
  readonly source: string;
  readonly addr: ListenAddress;
  /** PEM text of the certificate chain and key (read at startup; generated when absent). */
  readonly cert: string;
  readonly key: string;
  /** True when cert/key were generated for localhost because none were given. */
  readonly selfSigned: boolean;
  readonly ciphers?: string;
  /** PEM text of CA certificates used to verify client certificates (`clientca=`). */
  readonly clientCa?: string;
  /** The files cert, key and clientCa were read from, re-read on a certificate reload (absent: self-signed). */
  readonly files?: { readonly cert: string; readonly key: string; readonly clientCa?: string };
  /** Offer spdy/3.1, spdy/3 and spdy/2 by ALPN (`spdy=1`). */
  readonly spdy: boolean;
  /** Offer h2 by ALPN (`h2=0` turns it off). */
  readonly h2: boolean;
  /** Push cached resources named by `Link: <…>; rel=preload` (`push=0` turns it off). */
  readonly push: boolean;
  /** The cache pushes come from (`push-cache=`); the first --cache2 when absent. */
  readonly pushCache?: string;
  readonly tuning: StreamTuning;
}

/**
 * Protocol and buffer knobs; each has a default in DEFAULTS, a global option, and an --https2 key
 * that overrides it per listener. SPDY uses them all; HTTP/2 takes the stream limit, the window,
 * the header block size and the buffers; HTTP/1.1 and uwsgi take the buffers.
 */
export interface StreamTuning {
  /** SETTINGS_MAX_CONCURRENT_STREAMS sent on connect (SPDY and h2); more concurrent client streams are refused. */
  readonly maxConcurrentStreams: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE sent on connect (SPDY and h2): how much each upload may send ahead. */
  readonly initialWindowBytes: number;
  /** Session receive window on spdy/3.1 (raised from 64 KiB by a WINDOW_UPDATE on connect). */
  readonly sessionWindowBytes: number;
  /** Largest control frame (so largest compressed header block) accepted. */
  readonly maxControlFrameBytes: number;
  /** Largest inflated header block accepted. */
  readonly maxHeaderBlockBytes: number;
  /** Most header pairs in one block. */
  readonly maxHeaderCount: number;
  /** Largest DATA frame payload spry sends. */
  readonly maxDataFrameBytes: number;
  /**
   * Write high-water mark: response bytes queued per stream before the app is told to wait
   * (`res.write()` returns false), and bytes buffered on the connection's socket before spry
   * stops framing more.
   */
  readonly writeBufferBytes: number;
  /** Upload read buffer: request body bytes held for an app that has not read them yet before
   * spry stops taking more from the client (and so stops opening its flow-control window). */
  readonly readBufferBytes: number;
  /** SPDY: control frames (PING echoes, RST_STREAMs, WINDOW_UPDATEs) that may wait for a peer
   * whose socket is backed up before the session is ended. */
  readonly maxOwedControlFrames: number;
  /** The sliding window the three abuse budgets below are counted over. */
  readonly abuseWindowMs: number;
  /** Streams a peer may reset before their response is done, per abuse window (rapid reset). */
  readonly maxPeerResets: number;
  /** Frames for streams that are gone a peer may send, per abuse window. */
  readonly maxInvalidFrames: number;
  /** Stream errors (RST_STREAMs spry answers with) a peer may cause, per abuse window. */
  readonly maxStreamErrors: number;
  /** SPDY: response bytes queued on one session's streams above which stalled streams are reset. */
  readonly sessionBufferBytes: number;
  /** --limit-post: the largest request body accepted (413, or a reset); 0 for no limit. */
  readonly limitPostBytes: number;
}

/** One `--http` listener: plain HTTP/1.1, and h2c with prior knowledge. */
export interface HttpListenerConfig {
  /** The address exactly as written, for messages. */
  readonly source: string;
  readonly addr: ListenAddress;
}

/** One `--cache2 name=…,items=…[,blocksize=…][,blocks=…][,keysize=…][,bitmap=1][,purge_lru=0]`. */
export interface CacheConfig {
  readonly name: string;
  /** Most entries held at once. */
  readonly items: number;
  /** Bytes per block: without bitmap=1 the largest value; values use whole blocks either way. */
  readonly blocksize: number;
  /** Blocks in the cache (default: items): the byte bound is blocks × blocksize. */
  readonly blocks: number;
  /** Longest key, in bytes. */
  readonly keysize: number;
  /** Values may span several blocks (uWSGI's bitmap mode). */
  readonly bitmap: boolean;
  /** When full, evict the least recently used entries (default); purge_lru=0 makes a set fail instead. */
  readonly purgeLru: boolean;
  /** Entries from --load-file-in-cache, read and checked at startup. */
  readonly preload: readonly CachePreload[];
}

export interface CachePreload {
  readonly key: string;
  readonly value: Uint8Array;
  readonly contentType: string;
  /** The file it came from, for messages. */
  readonly file: string;
}

export interface SpryConfig {
  readonly https2: readonly Https2ListenerConfig[];
  readonly http: readonly HttpListenerConfig[];
  /** `--socket` listeners: the app served over the uwsgi protocol (same shape as --http's). */
  readonly uwsgi: readonly HttpListenerConfig[];
  /** The app module: `PATH:EXPORT` split; export defaults to `default` then `app`. */
  readonly module?: { readonly path: string; readonly exportName?: string; readonly source: string };
  /** Inactivity timeout for client connections, SPDY included. */
  readonly httpTimeoutMs: number;
  readonly processes: ProcessConfig;
  /** Forward requests to these backends (--http-to) instead of running a --module. */
  readonly upstream?: UpstreamConfig;
  /** A Python WSGI app run under managed uWSGI workers (src/wsgi) instead of a Node --module. */
  readonly python?: PythonAppConfig;
  /** The global tuning (defaults and global options): --http and --socket listeners use it. */
  readonly tuning: StreamTuning;
  /** --cache2 caches, in the order given (the first is the default one). */
  readonly caches: readonly CacheConfig[];
  /** The access log, stats and metrics (the command line always sets it; absent: all off). */
  readonly observe?: ObserveConfig;
  /** --chmod-socket, --chown-socket, --vacuum. */
  readonly unixSockets: UnixSocketConfig;
  /** Static files, --harakiri, --http-to-https and --hsts (src/edge); absent when none is given. */
  readonly edge?: EdgeConfig;
  /** --sni, --sni-regexp, --sni-dir and --touch-certs (absent: one certificate per listener). */
  readonly sni?: SniConfig;
}

/** Which server names an --sni or --sni-regexp certificate is for. */
export type SniMatch =
  | { readonly kind: 'name'; readonly name: string }
  /** `*.example.com`: exactly one label before `suffix` (`.example.com`). */
  | { readonly kind: 'wildcard'; readonly suffix: string }
  /** --sni-regexp: a JavaScript RegExp source, searched (not anchored) as uWSGI's PCRE is. */
  | { readonly kind: 'regexp'; readonly pattern: string };

/** One --sni or --sni-regexp certificate: the files, and their PEM text as last read. */
export interface SniEntry {
  readonly source: string;
  readonly match: SniMatch;
  readonly files: { readonly cert: string; readonly key: string };
  readonly cert: string;
  readonly key: string;
}

/** Certificates chosen by the name a client asks for; every --https2 listener uses them. */
export interface SniConfig {
  /** --sni then --sni-regexp entries, in the order given; the first that matches wins. */
  readonly entries: readonly SniEntry[];
  /** --sni-dir: NAME.crt and NAME.key looked up on a name's first handshake. */
  readonly dir?: string;
  /** --touch-certs: re-read every certificate when one of these files' mtime changes. */
  readonly touchCerts: readonly string[];
}

/** Where --stats and --metrics listen: TCP, or a unix socket (an address with a `/`). */
export type StatsAddress = { readonly kind: 'tcp'; readonly host: string; readonly port: number } | { readonly kind: 'unix'; readonly path: string };

/** uWSGI's logging and stats options (src/observe/). */
export interface ObserveConfig {
  /** One line per request (off with --disable-logging). */
  readonly accessLog: boolean;
  /** --logto: the access log's file (stderr without it). */
  readonly logto?: string;
  /** --logto2: spry's own lines (startup, the master's, app and backend failures); stderr without it. */
  readonly logto2?: string;
  /** --log-format: a `%(var)` template, or `json`; absent: spry's default line. */
  readonly logFormat?: string;
  readonly logXForwardedFor: boolean;
  /** --touch-logreopen: reopen the logs when one of these files' mtime changes. */
  readonly touchLogreopen: readonly string[];
  readonly stats?: StatsAddress;
  readonly statsHttp: boolean;
  readonly metrics?: StatsAddress;
}

/** The edge's options as given; listenerPlans() turns them into each listener's EdgeOptions. */
export interface EdgeConfig {
  readonly staticFiles?: StaticFilesConfig;
  readonly harakiriMs?: number;
  readonly hstsSeconds?: number;
  /** --http-to-https: the port of the first --https2 listener. */
  readonly httpsPort?: number;
}

/** A --http-to backend: uwsgi over TCP or a unix socket, or HTTP/1.1 over TCP or a unix socket (`socketPath`). */
export type BackendAddress =
  | { readonly kind: 'uwsgi'; readonly host: string; readonly port: number }
  | { readonly kind: 'uwsgi-unix'; readonly path: string }
  | { readonly kind: 'http'; readonly host: string; readonly port: number; readonly socketPath?: string };

export interface UpstreamConfig {
  readonly nodes: readonly BackendAddress[];
  /** How long a node that refused a connection is left alone (--http-gracetime). */
  readonly gracetimeMs: number;
  /** Extra variables for every request (--http-var KEY=VALUE). */
  readonly vars: Readonly<Record<string, string>>;
  /**
   * Set for spry's managed uWSGI workers, which are respawned when they die: a request that
   * finds no backend to retry on waits this long for one to come back (src/upstream/respawn-wait.ts).
   */
  readonly respawnWaitMs?: number;
}

/** uWSGI's python options, passed to the managed uWSGI workers as written (src/wsgi). */
export interface PythonAppConfig {
  /** How messages and the startup line name the app (`werkzeug.testapp:test_app`, `app.wsgi`). */
  readonly source: string;
  /** --module / --wsgi / -w: a dotted module name, optionally `:callable`. */
  readonly module?: string;
  /** --wsgi-file: a Python file, made absolute. */
  readonly wsgiFile?: string;
  readonly callable?: string;
  readonly pythonPath: readonly string[];
  readonly virtualenv?: string;
  /** uWSGI plugins to load: as given, with python3 first unless a python plugin is named. */
  readonly plugins: readonly string[];
}

/** The master process and its workers (uWSGI's --shared-socket, --uid, --processes, …). */
export interface ProcessConfig {
  /** Bound by the master before anything else, numbered from 0: `=N` refers to them. */
  readonly sharedSockets: readonly { readonly source: string; readonly addr: BindableAddress }[];
  /** Drop to this user (name or number) after binding, before loading app code. */
  readonly uid?: string;
  readonly gid?: string;
  /** Refuse to run the app as root (after any --uid). */
  readonly refuseRoot: boolean;
  /** Workers sharing the listeners. */
  readonly workers: number;
  /** Run a master even with one worker (implied by workers > 1, shared sockets, --uid/--gid). */
  readonly master: boolean;
  /** How long a worker may take to finish in-flight work when reloaded or stopped. */
  readonly workerReloadMercyMs: number;
  /** How long a whole reload or shutdown may take before workers are killed. */
  readonly reloadMercyMs: number;
  readonly pidfile?: string;
  readonly touchReload: readonly string[];
}

export const DEFAULTS = {
  httpTimeoutMs: 60_000,
  // uWSGI's --http-gracetime default.
  httpGracetimeMs: 30_000,
  // uWSGI's defaults for both mercies are 60 s.
  workerReloadMercyMs: 60_000,
  reloadMercyMs: 60_000,
  tuning: {
    // uWSGI advertises no stream limit worth the name; 100 is the drafts' recommended floor, but
    // a router behind which apps are cheap benefits from more. 1000 keeps a client from holding
    // unbounded state while letting a page-heavy client pipeline freely.
    maxConcurrentStreams: 1000,
    // uWSGI sends 8 KiB, which throttles uploads to one window per round trip. 1 MiB per stream
    // lets an upload run at link speed on a LAN while bounding what one stream can make us buffer.
    initialWindowBytes: 1 << 20,
    // The session window (3.1) covers all streams at once: 16 MiB.
    sessionWindowBytes: 16 << 20,
    // SPDY/3 requires accepting control frames of at least 8192 bytes; real browsers' cookie-heavy
    // SYN_STREAMs stay well under 64 KiB.
    maxControlFrameBytes: 64 << 10,
    maxHeaderBlockBytes: 256 << 10,
    maxHeaderCount: 256,
    // 16 KiB DATA frames interleave streams fairly without drowning in frame headers.
    maxDataFrameBytes: 16 << 10,
    // Node's own default for stream buffers (64 KiB since Node 22): enough to keep a TLS record
    // pipeline full, small enough that 10,000 slow clients cost little.
    writeBufferBytes: 64 << 10,
    readBufferBytes: 64 << 10,
    // nghttp2's own flood limit for queued PING/SETTINGS acknowledgements and RST_STREAMs is
    // 1000: a peer that reads even slowly never comes near it (frames wait only while its socket
    // is backed up, and reading stops meanwhile), while one that never reads is cut off after
    // ~16 KB of owed frames.
    maxOwedControlFrames: 1000,
    // 1000 per 10 s: nghttp2's stream-reset burst (it refills at 33 a second). A browser cancels
    // a few dozen streams on a page change; a rapid-reset attack sends thousands a second and is
    // stopped after 1000, as node:http2 stops it.
    abuseWindowMs: 10_000,
    maxPeerResets: 1000,
    maxInvalidFrames: 1000,
    maxStreamErrors: 1000,
    // 256 streams' worth of write-buffer: a client that holds 1000 streams at window 0 costs
    // 16 MiB, not 64 (stalled streams are reset past it).
    sessionBufferBytes: 16 << 20,
    // uWSGI's default: no limit (the app decides).
    limitPostBytes: 0,
  } satisfies StreamTuning,
  cache: {
    // uWSGI's defaults: 64 KiB blocks, 2048-byte keys, one block per item.
    blocksize: 65_536,
    keysize: 2048,
  },
} as const;
