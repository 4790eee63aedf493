import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repositoryUrl } from '../repository.js';

/**
 * What the npm package page and license checkers read: every publishable
 * package names its repository (with its folder), homepage, issue tracker and
 * license, and its tarball carries a LICENSE identical to the root one (each
 * package keeps a copy, because npm packs only files inside the package).
 */
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const rootLicense = readFileSync(join(repoRoot, 'LICENSE'), 'utf8');

const publishable = readdirSync(join(repoRoot, 'packages'))
  .filter((dir) => existsSync(join(repoRoot, 'packages', dir, 'package.json')))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(repoRoot, 'packages', dir, 'package.json'), 'utf8')) }))
  .filter(({ manifest }) => !manifest.private);

describe('package metadata', () => {
  it('the root LICENSE is MIT, by the redkit authors', () => {
    expect(rootLicense).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the redkit authors\n/);
  });

  it.each(publishable.map(({ dir, manifest }) => [dir, manifest]))(
    'packages/%s/package.json names its repository, homepage, bugs and license',
    (dir, manifest) => {
      expect({
        license: manifest.license,
        repository: manifest.repository,
        homepage: manifest.homepage,
        bugs: manifest.bugs,
      }).toEqual({
        license: 'MIT',
        repository: { type: 'git', url: `git+${repositoryUrl}.git`, directory: `packages/${dir}` },
        homepage: `${repositoryUrl}/tree/main/packages/${dir}#readme`,
        bugs: { url: `${repositoryUrl}/issues` },
      });
    },
  );

  it.each(publishable.map(({ dir }) => dir))('packages/%s/LICENSE is a copy of the root LICENSE', (dir) => {
    const copy = join(repoRoot, 'packages', dir, 'LICENSE');
    expect(existsSync(copy) && readFileSync(copy, 'utf8') === rootLicense, `cp LICENSE packages/${dir}/LICENSE`).toBe(
      true,
    );
  });

  it('every tarball includes LICENSE', () => {
    // --dry-run lists what `npm pack` would put in each tarball without building or writing one.
    const listing = execFileSync(
      'npm',
      [
        'pack',
        '--dry-run',
        '--json',
        '--ignore-scripts',
        ...publishable.flatMap(({ manifest }) => ['-w', manifest.name]),
      ],
      { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const packed = JSON.parse(listing) as { name: string; files: { path: string }[] }[];
    const withoutLicense = packed
      .filter(({ files }) => !files.some(({ path }) => path === 'LICENSE'))
      .map((p) => p.name);
    expect(packed).toHaveLength(publishable.length);
    expect(withoutLicense).toEqual([]);
  });
});
