import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mainBranchPrefixes } from '../repository.js';

/**
 * Every pattern page has the sections a reader looks for, under headings
 * they can find: when to use it (with Pro and Con), failure modes, cluster
 * notes and the ACL commands. docs/index.md links every page, and no
 * relative link of the docs or a README points to a missing file or heading;
 * nor does an absolute link to this repository's main branch, which the
 * package READMEs use so that their links work on the npm package page.
 */
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const docs = fileURLToPath(new URL('../../docs/', import.meta.url));
const patternPages = ['cache', 'geo', 'hot-keys', 'leaderboard', 'lock', 'queue', 'ratelimit', 'session'];

const required: [string, RegExp][] = [
  ['a "When to use …" or "Choosing …" section', /^## (When to use|Choosing)\b/m],
  ['a **Pro** bullet', /^- \*\*Pro\*\*:/m],
  ['a **Con** bullet', /^- \*\*Con\*\*:/m],
  ['a "Failure modes" (or "Failure behaviour") section', /^## Failure (modes|behaviour)\b/m],
  ['a "Cluster notes" section', /^## Cluster\b/m],
  ['an ACL section', /^## (.* )?ACL\b/m],
];

/** The docs and every README: what a reader follows links through. */
function markdownFiles(): string[] {
  const readmes = ['packages', 'examples'].flatMap((dir) =>
    readdirSync(join(repoRoot, dir)).map((name) => join(repoRoot, dir, name, 'README.md')),
  );
  const pages = readdirSync(docs)
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(docs, name));
  return [join(repoRoot, 'README.md'), ...pages, ...readmes].filter((file) => existsSync(file));
}

const withoutCode = (text: string) => text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of text.replace(/```[\s\S]*?```/g, '').matchAll(/^#{1,6}\s+(.*)$/gm)) {
    const slug = (heading as string)
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/**
 * The work-tree path a link points to: relative to the file, or an absolute
 * link to this repository's main branch mapped back; undefined for any other URL.
 */
function localPath(file: string, path: string): string | undefined {
  const prefix = mainBranchPrefixes.find((candidate) => path.startsWith(candidate));
  if (prefix) return join(repoRoot, decodeURIComponent(path.slice(prefix.length)));
  if (/^[a-z]+:/i.test(path)) return undefined;
  return path ? resolve(dirname(file), path) : file;
}

/** Links of one markdown file into this repository whose file or heading does not exist. */
function brokenLinks(file: string, text: string): string[] {
  const broken: string[] = [];
  for (const [, href] of withoutCode(text).matchAll(/\]\(([^)\s]+)\)/g)) {
    if (!href) continue;
    const [path = '', anchor] = href.split('#');
    const target = localPath(file, path);
    if (target === undefined) continue;
    const where = `${relative(repoRoot, file)}: ${href}`;
    if (path && !existsSync(target)) broken.push(`${where} (no such file)`);
    else if (anchor && target.endsWith('.md') && (target === file || statSync(target).isFile())) {
      const targetText = target === file ? text : readFileSync(target, 'utf8');
      if (!anchorsOf(targetText).has(anchor)) broken.push(`${where} (no such heading)`);
    }
  }
  return broken;
}

/** Links of a package README that leave the page but not by an absolute URL: they lead nowhere on npm. */
function relativeLinks(text: string): string[] {
  return [...withoutCode(text).matchAll(/\]\(([^)\s]+)\)/g)]
    .map(([, href]) => href as string)
    .filter((href) => !href.startsWith('#') && !/^[a-z]+:/i.test(href));
}

describe('docs pages', () => {
  it.each(patternPages)('docs/%s.md has the sections every pattern page has', (page) => {
    const text = readFileSync(`${docs}${page}.md`, 'utf8');
    const missing = required.filter(([, pattern]) => !pattern.test(text)).map(([what]) => what);
    expect(missing, `docs/${page}.md lacks ${missing.join(', ')}`).toEqual([]);
  });

  it('docs/index.md links every page of docs/', () => {
    const index = readFileSync(`${docs}index.md`, 'utf8');
    const pages = readdirSync(docs).filter((name) => name.endsWith('.md') && name !== 'index.md');
    expect(pages.filter((name) => !index.includes(`](${name}`))).toEqual([]);
  });

  it('finds broken relative links and anchors', () => {
    const file = join(docs, 'x.md');
    const text =
      '# A `b` (c)\n## Two words\n## Two words\n[ok](#a-b-c) [ok](#two-words-1) [bad](#nope) [ok](cache.md#cluster-notes) [bad](nope.md) [ok](https://x.y/z) `[code](nope.md)`';
    expect(brokenLinks(file, text)).toEqual([
      'docs/x.md: #nope (no such heading)',
      'docs/x.md: nope.md (no such file)',
    ]);
    const [blob, tree] = mainBranchPrefixes;
    const absolute = `[ok](${blob}docs/cache.md#cluster-notes) [bad](${blob}docs/nope.md) [bad](${blob}docs/cache.md#nope) [ok](${tree}packages/cache#readme)`;
    expect(brokenLinks(file, absolute)).toEqual([
      `docs/x.md: ${blob}docs/nope.md (no such file)`,
      `docs/x.md: ${blob}docs/cache.md#nope (no such heading)`,
    ]);
    expect(relativeLinks(`[a](#x) [b](../../docs/cache.md) [c](${blob}docs/cache.md) \`[d](e.md)\``)).toEqual([
      '../../docs/cache.md',
    ]);
  });

  it('package READMEs link out by absolute URLs only, so the links work on the npm package page', () => {
    const readmes = readdirSync(join(repoRoot, 'packages'))
      .map((name) => join(repoRoot, 'packages', name, 'README.md'))
      .filter((file) => existsSync(file));
    const relativeOnes = readmes.flatMap((file) =>
      relativeLinks(readFileSync(file, 'utf8')).map((href) => `${relative(repoRoot, file)}: ${href}`),
    );
    expect(relativeOnes).toEqual([]);
  });

  it('every link of the docs and READMEs into this repository points to an existing file and heading', () => {
    const broken = markdownFiles().flatMap((file) => brokenLinks(file, readFileSync(file, 'utf8')));
    expect(broken).toEqual([]);
  });
});
