// Every `§` citation in the code names its document, and the ones that name a document in docs/
// resolve to a section there: a heading `## 12.` / `### 3.4`, or a numbered item `5.` under the
// heading `## 17.` for `§17.5`. Citations of RFCs and of the SPDY drafts (docs/spdy-protocol.md
// §0 lists them) are allowed as such. The document is named on the same line, before the
// citation; `§8, §12` after one name both cite that document.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCANNED = ['src', 'test', 'bench'];
const THIS_FILE = 'test/docs/citations.test.ts';
/**
 * Files another branch is rewriting (issue 12 splits the SPDY session on branch `harden`): their
 * citations are named there. Whoever merges both removes this entry and names what is left.
 */
const NAMED_ELSEWHERE = new Set<string>([]);

/** A document named in the code: docs/….md, an RFC, or a SPDY draft. */
const DOCUMENT = /docs\/[\w.-]+\.md|RFC \d{3,5}|SPDY\/(?:3\.1|2|3)(?![\d.])/g;
const SECTION = /§(\d+(?:\.\d+)*)/g;

interface Citation {
  readonly where: string;
  readonly document: string | undefined;
  readonly section: string;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'results') out.push(...sourceFiles(path));
    } else if (/\.(ts|cts|mts|cjs|js|hex)$/.test(entry.name)) out.push(path);
  }
  return out;
}

function citations(file: string): Citation[] {
  const out: Citation[] = [];
  readFileSync(join(ROOT, file), 'utf8')
    .split('\n')
    .forEach((line, index) => {
      const documents = [...line.matchAll(DOCUMENT)];
      for (const match of line.matchAll(SECTION)) {
        const before = documents.filter((doc) => doc.index < match.index);
        out.push({ where: `${file}:${index + 1}`, document: before.at(-1)?.[0], section: match[1] });
      }
    });
  return out;
}

/** The section numbers a markdown document defines: headings, and numbered items under them. */
function sectionsOf(document: string): Set<string> {
  const sections = new Set<string>();
  let heading: string | undefined;
  for (const line of readFileSync(join(ROOT, document), 'utf8').split('\n')) {
    const title = /^#{2,4} (\d+(?:\.\d+)*)\.? /.exec(line);
    if (title !== null) {
      heading = title[1];
      sections.add(heading);
      continue;
    }
    const item = /^(\d+)\. /.exec(line);
    if (item !== null && heading !== undefined && !heading.includes('.')) sections.add(`${heading}.${item[1]}`);
  }
  return sections;
}

const all = SCANNED.flatMap(sourceFiles)
  .map((file) => relative(ROOT, join(ROOT, file)))
  .filter((file) => file !== THIS_FILE && !NAMED_ELSEWHERE.has(file))
  .flatMap(citations);

describe('spec citations', () => {
  it('finds citations to check (the scan itself works)', () => {
    assert.ok(all.length > 50, `only ${all.length} citations found`);
    assert.ok(all.some((c) => c.document === 'docs/spdy-protocol.md'));
  });

  it('name their document on the line that cites them', () => {
    const unnamed = all.filter((c) => c.document === undefined).map((c) => `${c.where} §${c.section}`);
    assert.deepEqual(unnamed, []);
  });

  it('resolve to a section of the named document when it is in docs/', () => {
    const cache = new Map<string, Set<string>>();
    const broken: string[] = [];
    for (const c of all) {
      if (c.document === undefined || !c.document.startsWith('docs/')) continue;
      if (!existsSync(join(ROOT, c.document))) {
        broken.push(`${c.where}: ${c.document} does not exist`);
        continue;
      }
      let sections = cache.get(c.document);
      if (sections === undefined) cache.set(c.document, (sections = sectionsOf(c.document)));
      if (!sections.has(c.section)) broken.push(`${c.where}: ${c.document} has no §${c.section}`);
    }
    assert.deepEqual(broken, []);
  });
});
