import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Every pattern page has the sections a reader looks for, under headings
 * they can find: when to use it (with Pro and Con), failure modes, cluster
 * notes and the ACL commands. And docs/index.md links every page.
 */
const docs = fileURLToPath(new URL('../../docs/', import.meta.url));
const patternPages = ['cache', 'geo', 'hotkeys', 'leaderboard', 'lock', 'queue', 'ratelimit', 'session'];

const required: [string, RegExp][] = [
  ['a "When to use …" or "Choosing …" section', /^## (When to use|Choosing)\b/m],
  ['a **Pro** bullet', /^- \*\*Pro\*\*:/m],
  ['a **Con** bullet', /^- \*\*Con\*\*:/m],
  ['a "Failure modes" (or "Failure behaviour") section', /^## Failure (modes|behaviour)\b/m],
  ['a "Cluster notes" section', /^## Cluster\b/m],
  ['an ACL section', /^## (.* )?ACL\b/m],
];

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
});
