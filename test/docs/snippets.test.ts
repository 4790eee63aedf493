import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * Type-checks every ```ts block of docs/*.md and the READMEs (root, packages/*, examples/*) against
 * the package sources (the root tsconfig's paths), so a snippet cannot drift
 * from the API it shows. Each block is its own ES module.
 *
 * Markers, in an HTML comment on the line right before a block:
 * - `<!-- snippet: skip (why) -->`: not checked; keep these rare.
 * - `<!-- snippet: prelude
 *   declare const redisA: import('ioredis').Redis;
 *   -->`: TypeScript prepended to the block, to declare what a short
 *   excerpt takes for granted without showing it (your database, `app`).
 *
 * And anywhere in a file, `<!-- snippet: context … -->` is prepended to every
 * later block of the file (until the next context), for the objects a page
 * builds once and then uses throughout. Use `import('…')` types there, so a
 * block's own imports never clash with it.
 */
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

interface Snippet {
  /** `docs/cache.md:42`: where the block's first code line is. */
  readonly where: string;
  readonly file: string;
  readonly line: number;
  readonly code: string;
  readonly prelude: string;
}

function markdownFiles(): string[] {
  const docs = readdirSync(join(repoRoot, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(repoRoot, 'docs', name));
  const readmes = [
    join(repoRoot, 'README.md'),
    ...['packages', 'examples'].flatMap((dir) =>
      readdirSync(join(repoRoot, dir)).map((name) => join(repoRoot, dir, name, 'README.md')),
    ),
  ].filter((path) => {
    try {
      readFileSync(path);
      return true;
    } catch {
      return false;
    }
  });
  return [...docs, ...readmes].sort();
}

const fence = /^(\s*)```(?!`)(\w+)?[^\n]*$/;
const marker = /<!--\s*snippet:\s*(skip|prelude)\b([\s\S]*?)-->\s*$/;
const contextMarker = /<!--\s*snippet:\s*context\b([\s\S]*?)-->/;

/** The ```ts blocks of one markdown file, with their markers applied. */
function extractSnippets(file: string, text: string): Snippet[] {
  const lines = text.split('\n');
  const snippets: Snippet[] = [];
  let context = '';
  for (let index = 0; index < lines.length; index++) {
    // Markers open a line; one quoted inside a sentence (as docs/testing.md does) is prose.
    if ((lines[index] as string).trimStart().startsWith('<!--')) {
      const close = lines.findIndex((line, at) => at >= index && line.includes('-->'));
      const found = contextMarker.exec(lines.slice(index, close + 1).join('\n'));
      if (found) context = (found[1] ?? '').trim();
    }
    const open = fence.exec(lines[index] as string);
    if (!open) continue;
    const end = lines.findIndex((line, at) => at > index && /^\s*```(?!`)\s*$/.test(line));
    if (end === -1) break;
    const indent = open[1]?.length ?? 0;
    const lang = open[2];
    if (lang === 'ts' || lang === 'typescript') {
      // The marker: a comment ending on a line right above the fence (blank lines allowed).
      let above = index - 1;
      while (above >= 0 && (lines[above] as string).trim() === '') above--;
      let start = above;
      while (start > 0 && !(lines[start] as string).trimStart().startsWith('<!--')) start--;
      const comment = above >= 0 ? marker.exec(lines.slice(start, above + 1).join('\n')) : null;
      if (comment?.[1] !== 'skip') {
        snippets.push({
          where: `${relative(repoRoot, file)}:${index + 2}`,
          file,
          line: index + 2,
          code: lines
            .slice(index + 1, end)
            .map((line) => line.slice(indent))
            .join('\n'),
          prelude: [context, comment?.[1] === 'prelude' ? (comment[2] ?? '').trim() : ''].filter(Boolean).join('\n'),
        });
      }
    }
    index = end;
  }
  return snippets;
}

function loadCompilerOptions(): ts.CompilerOptions {
  const configPath = join(repoRoot, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, repoRoot, undefined, configPath);
  return { ...parsed.options, noEmit: true, declaration: false, sourceMap: false, incremental: false };
}

/** Diagnostics of each snippet, as `file:line: message` lines (empty when it type-checks). */
function checkSnippets(snippets: readonly Snippet[]): Map<Snippet, string[]> {
  const options = loadCompilerOptions();
  // Virtual files next to the root package.json (type: module), so they are ES modules
  // resolving ioredis, zod and @redkit/* as the repository's own code does.
  const virtual = new Map<string, { snippet: Snippet; text: string; offset: number }>();
  snippets.forEach((snippet, number) => {
    const path = join(repoRoot, '.snippets', `snippet-${number}.ts`);
    const head = snippet.prelude ? `${snippet.prelude}\n` : '';
    virtual.set(path, {
      snippet,
      text: `${head}${snippet.code}\nexport {};\n`,
      offset: head ? head.split('\n').length - 1 : 0,
    });
  });
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const entry = virtual.get(fileName);
    if (entry) return ts.createSourceFile(fileName, entry.text, languageVersion, true);
    return getSourceFile(fileName, languageVersion, onError, shouldCreate);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => virtual.has(fileName) || fileExists(fileName);
  const readFile = host.readFile.bind(host);
  host.readFile = (fileName) => virtual.get(fileName)?.text ?? readFile(fileName);
  const ambient = readdirSync(join(repoRoot, 'types')).map((name) => join(repoRoot, 'types', name));
  const program = ts.createProgram({ rootNames: [...virtual.keys(), ...ambient], options, host });

  const results = new Map<Snippet, string[]>();
  for (const [path, { snippet, offset }] of virtual) {
    const source = program.getSourceFile(path);
    const diagnostics = source
      ? [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]
      : [];
    results.set(
      snippet,
      diagnostics.map((diagnostic) => {
        const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
        if (diagnostic.start === undefined || !diagnostic.file) return `${snippet.where}: ${message}`;
        const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
        const where =
          line < offset
            ? `${snippet.where} (prelude)`
            : `${relative(repoRoot, snippet.file)}:${snippet.line + line - offset}`;
        return `${where}: TS${diagnostic.code} ${message}`;
      }),
    );
  }
  return results;
}

describe('docs snippets', () => {
  const snippets = markdownFiles().flatMap((file) => extractSnippets(file, readFileSync(file, 'utf8')));
  // A snippet that must fail, checked in the same program (one compilation for the whole file).
  const [wrong] = extractSnippets(
    join(repoRoot, 'docs', 'y.md'),
    '```ts\nconst n: number = 1;\nconst s: string = n;\n```',
  ) as [Snippet];
  let results = new Map<Snippet, string[]>();
  const check = () => results;
  // One TypeScript program over the package sources: seconds, more on a busy machine.
  beforeAll(() => {
    results = checkSnippets([...snippets, wrong]);
  }, 180_000);

  it('finds the ts blocks and their markers, and reports an error at its markdown line', () => {
    const sample = [
      'text',
      '```ts',
      'const a = 1;',
      '```',
      '<!-- snippet: skip (shows a syntax error on purpose) -->',
      '```ts',
      'const = ;',
      '```',
      '<!-- snippet: prelude',
      'declare const b: number;',
      '-->',
      '',
      '```ts',
      'console.log(b);',
      '```',
      '<!-- snippet: context',
      'declare const c: string;',
      '-->',
      '```ts',
      'console.log(c);',
      '```',
      '```` ```ts ```` is inline code, not a fence',
      '```sh',
      'npm test',
      '```',
      '<!-- snippet: prelude declare const d: string; -->',
      '```ts',
      'console.log(c, d);',
      '```',
    ].join('\n');
    const found = extractSnippets(join(repoRoot, 'docs', 'x.md'), sample);
    expect(found.map(({ where, code, prelude }) => ({ where, code, prelude }))).toEqual([
      { where: 'docs/x.md:3', code: 'const a = 1;', prelude: '' },
      { where: 'docs/x.md:14', code: 'console.log(b);', prelude: 'declare const b: number;' },
      { where: 'docs/x.md:20', code: 'console.log(c);', prelude: 'declare const c: string;' },
      {
        where: 'docs/x.md:28',
        code: 'console.log(c, d);',
        prelude: 'declare const c: string;\ndeclare const d: string;',
      },
    ]);
    expect(check().get(wrong)).toEqual([
      expect.stringMatching(/^docs\/y\.md:3: TS2322 Type 'number' is not assignable to type 'string'/),
    ]);
  });

  it('every ts snippet in docs/ and the READMEs type-checks', () => {
    expect(snippets.length).toBeGreaterThan(40);
    const failures = snippets.flatMap((snippet) => check().get(snippet) ?? []);
    expect(failures, failures.join('\n')).toEqual([]);
  });
});
