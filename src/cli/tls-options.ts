// uWSGI's SNI options (--sni, --sni-regexp, --sni-dir) and spry's --touch-certs. Every file is
// read and checked here, so a bad one is one line and exit status 2 with nothing started.

import { statSync } from 'node:fs';
import type { SniConfig, SniEntry, SniMatch } from '../config/config.ts';
import { ConfigError } from '../errors.ts';
import { contextFailure, readPemFile } from '../tls/pem-files.ts';
import type { OptionSpec } from './options.ts';

export interface TlsDraft {
  readonly entries: SniEntry[];
  dir?: string;
  readonly touchCerts: string[];
}

type TlsOption = OptionSpec<{ readonly tls: TlsDraft }>;

/** `*.example.com`, `example.com`: letters, digits, hyphens, dots. */
const SNI_NAME = /^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*$/i;

export const TLS_OPTIONS: readonly TlsOption[] = [
  {
    name: 'sni', aliases: [], takesValue: true, repeats: true, valueHint: 'NAME,CRT,KEY',
    summary: 'serve clients asking for NAME (or *.DOMAIN: one label) this certificate and key; others get --https2\'s',
    apply: async (value, raw, draft) => {
      draft.tls.entries.push(await parseSni(raw, value ?? '', (name) => {
        if (!SNI_NAME.test(name)) throw new ConfigError(raw, `"${name}" is not a host name or *.domain`);
        const lower = name.toLowerCase();
        return lower.startsWith('*.') ? { kind: 'wildcard', suffix: lower.slice(1) } : { kind: 'name', name: lower };
      }));
    },
  },
  {
    name: 'sni-regexp', aliases: [], takesValue: true, repeats: true, valueHint: 'REGEXP,CRT,KEY',
    summary: 'serve clients whose name matches REGEXP (searched, case-insensitive: anchor it with ^…$) this certificate',
    apply: async (value, raw, draft) => {
      draft.tls.entries.push(await parseSni(raw, value ?? '', (pattern) => {
        try {
          new RegExp(pattern, 'i');
        } catch (error) {
          throw new ConfigError(raw, `"${pattern}" is not a regular expression (${error instanceof Error ? error.message : String(error)})`);
        }
        return { kind: 'regexp', pattern };
      }));
    },
  },
  {
    name: 'sni-dir', aliases: [], takesValue: true, repeats: false, valueHint: 'DIR',
    summary: 'serve a client asking for NAME DIR/NAME.crt and DIR/NAME.key, read on the name\'s first handshake',
    apply: (value, raw, draft) => {
      const dir = value ?? '';
      if (dir === '') throw new ConfigError(raw, 'needs a value');
      let isDirectory: boolean;
      try {
        isDirectory = statSync(dir).isDirectory();
      } catch (error) {
        throw new ConfigError(raw, `${dir}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      }
      if (!isDirectory) throw new ConfigError(raw, `${dir}: not a directory`);
      draft.tls.dir = dir;
    },
  },
  {
    name: 'touch-certs', aliases: [], takesValue: true, repeats: true, valueHint: 'FILE',
    summary: 're-read every certificate, key and CA (no worker reload) when FILE\'s modification time changes',
    apply: (value, raw, draft) => {
      if (value === undefined || value === '') throw new ConfigError(raw, 'needs a value');
      draft.tls.touchCerts.push(value);
    },
  },
];

/** The SNI part of the configuration, or undefined when no option asked for it. */
export function sniConfig(draft: TlsDraft): SniConfig | undefined {
  if (draft.entries.length === 0 && draft.dir === undefined && draft.touchCerts.length === 0) return undefined;
  return { entries: draft.entries, ...(draft.dir === undefined ? {} : { dir: draft.dir }), touchCerts: draft.touchCerts };
}

/** `MATCH,CRT,KEY[,CIPHERS[,CLIENT_CA]]`, uWSGI's form; the last two only empty (see src/tls/sni.ts). */
async function parseSni(raw: string, text: string, parseMatch: (match: string) => SniMatch): Promise<SniEntry> {
  const fields = text.split(',');
  const [match = '', certFile = '', keyFile = '', ciphers = '', clientCa = ''] = fields;
  if (fields.length < 3 || fields.length > 5 || match === '' || certFile === '' || keyFile === '') {
    throw new ConfigError(raw, `"${text}": expected NAME,CRT,KEY`);
  }
  if (ciphers !== '' || clientCa !== '') {
    throw new ConfigError(raw, `"${text}": per-name ciphers and client CA are not supported (Node applies only a name's certificate and key; give them to --https2 as ciphers= and clientca=)`);
  }
  const parsed = parseMatch(match);
  let cert: string;
  let key: string;
  try {
    [cert, key] = await Promise.all([readPemFile(certFile), readPemFile(keyFile)]);
  } catch (error) {
    throw new ConfigError(raw, error instanceof Error ? error.message : String(error));
  }
  const reason = contextFailure({ cert, key });
  if (reason !== undefined) throw new ConfigError(raw, `${certFile} and ${keyFile} do not load as a certificate and its key (${reason})`);
  return { source: text, match: parsed, files: { cert: certFile, key: keyFile }, cert, key };
}
