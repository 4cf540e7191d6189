// Which runtime a `--module` value names. One rule, used by the CLI and nowhere else:
//   1. `node:PATH` is Node and `py:NAME` is Python, whatever follows (the prefix is dropped);
//   2. what Node can resolve is Node: a path (`./app.ts`, `/srv/app.js`, `file:…`, a name with a
//      JavaScript or TypeScript extension) or a package specifier that resolves from spry;
//   3. a dotted name Python could import (`werkzeug.testapp`, `app`, with an optional
//      `:callable`) is Python; whether it really imports is uWSGI's to say, and spry reports
//      the Python error it prints (src/wsgi/startup-failure.ts);
//   4. anything else is Node, whose loader then says why it cannot load it.

export type AppLanguage = 'node' | 'python';

export interface ModuleChoice {
  readonly language: AppLanguage;
  /** The value without a `node:`/`py:` prefix. */
  readonly name: string;
}

const NODE_EXTENSION = /\.(?:[cm]?js|[cm]?ts|jsx|tsx|json)$/;
/** Python's dotted module path, then uWSGI's optional `:callable`. */
const PYTHON_MODULE = /^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*(?::[A-Za-z_]\w*)?$/;

export function moduleLanguage(value: string): ModuleChoice {
  if (value.startsWith('py:')) return { language: 'python', name: value.slice('py:'.length) };
  if (value.startsWith('node:')) return { language: 'node', name: value.slice('node:'.length) };
  if (nodeCanResolve(value)) return { language: 'node', name: value };
  return { language: PYTHON_MODULE.test(value) ? 'python' : 'node', name: value };
}

function nodeCanResolve(value: string): boolean {
  const path = modulePart(value);
  if (/^(?:\.{1,2}\/|\/|file:)/.test(path) || NODE_EXTENSION.test(path)) return true;
  try {
    import.meta.resolve(path);
    return true;
  } catch {
    return false;
  }
}

/** `PATH:EXPORT` without its export (a Windows drive's or a URL's colon is not one). */
function modulePart(value: string): string {
  const colon = value.lastIndexOf(':');
  const tail = colon === -1 ? '' : value.slice(colon + 1);
  return colon <= 0 || tail.includes('/') || tail.includes('\\') ? value : value.slice(0, colon);
}
