import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type StandaloneRedis, startStandalone } from '@redkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFlags, packTarballs, repoRoot, repoVersion, withWorkspaceDependencies } from './packed.js';

/**
 * Follows docs/getting-started.md as a new user would: runs its install
 * commands in an empty directory (the @redkit packages from their packed
 * tarballs, as the registry would serve them), saves its app.ts, starts it
 * with the page's command, and runs the page's requests, expecting exactly the
 * output the page shows. Needs the packages built (`npm test` builds first).
 */
const page = readFileSync(join(repoRoot, 'docs/getting-started.md'), 'utf8');
const sh = promisify(execFile);

interface Block {
  lang: string;
  code: string;
}

/** The fenced blocks of one `## ` section of the page, in order. */
function blocks(section: string): Block[] {
  const body = page.split(/^## /m).find((part) => part.startsWith(section));
  if (!body) throw new Error(`docs/getting-started.md has no "## ${section}" section`);
  return [...body.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map(([, lang, code]) => ({
    lang: lang ?? '',
    code: code ?? '',
  }));
}

const installBlock = blocks('Install').find((block) => block.lang === 'sh' && block.code.includes('npm install'));
const appBlock = blocks('A first app').find((block) => block.lang === 'ts');
/** The "Run it" steps: each sh command followed by the output block it prints. */
const runSteps = (() => {
  const found = blocks('Run it');
  const steps: { command: string; output: string }[] = [];
  for (let i = 0; i < found.length; i++) {
    const block = found[i] as Block;
    const next = found[i + 1];
    if (block.lang === 'sh' && next && next.lang === '') {
      steps.push({ command: block.code.trim(), output: next.code.trim() });
      i++;
    }
  }
  return steps;
})();
/** A loopback port that was free a moment ago. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const loadedOnce = /The first terminal printed `([^`]+)` once/.exec(page)?.[1];

let work: string;
let redis: StandaloneRedis;
let server: ChildProcess | undefined;

beforeAll(async () => {
  expect(installBlock, 'an sh block with npm install under "## Install"').toBeDefined();
  redis = await startStandalone();
  work = mkdtempSync(join(tmpdir(), 'redkit-getting-started-'));

  const lines = (installBlock as Block).code.split('\n');
  const named = lines
    .filter((line) => line.startsWith('npm install'))
    .flatMap((line) => line.split(/\s+/).filter((word) => word.startsWith('@redkit/')));
  const redkit = withWorkspaceDependencies(named);
  const tarballs = await packTarballs(work, redkit);
  const tarball = (name: string) => tarballs.get(name) as string;
  // The page's commands, word for word, except what a registry would serve:
  // @redkit/* from the tarballs (with their @redkit dependencies), other
  // packages at the version this repository uses, and npm told to use its cache.
  const script = lines
    .map((line) => {
      if (!line.startsWith('npm install')) return line;
      const words = line.split(/\s+/).map((word) => {
        if (word.startsWith('@redkit/')) return tarball(word);
        if (word === 'npm' || word === 'install' || word.startsWith('-')) return word;
        return `${word}@${repoVersion(word)}`;
      });
      const transitive = line.includes('--save-dev') ? [] : redkit.filter((name) => !named.includes(name)).map(tarball);
      return [...words, ...transitive, ...installFlags].join(' ');
    })
    .join('\n');
  await sh('sh', ['-e', '-c', script], { cwd: work, timeout: 240_000 });
}, 300_000);

afterAll(async () => {
  // Only when the test failed half-way: npx, tsx and node are one process group.
  if (server?.pid && server.exitCode === null) process.kill(-server.pid, 'SIGKILL');
  await redis?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('docs/getting-started.md, followed as written', () => {
  it('its app starts, answers from the cache and then rate-limits, printing what the page shows', async () => {
    expect(appBlock, 'a ts block under "## A first app"').toBeDefined();
    expect(runSteps.length).toBeGreaterThanOrEqual(3);
    const app = join(work, 'my-app');
    writeFileSync(join(app, 'app.ts'), (appBlock as Block).code);

    const [start, ...requests] = runSteps as [
      { command: string; output: string },
      ...{ command: string; output: string }[],
    ];
    expect(start.command).toBe('npx tsx app.ts');
    // A port of the test's choosing instead of 3000 (runs may overlap), through the PORT the app reads.
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: redis.url, PORT: String(port) };
    delete env.NODE_OPTIONS;
    delete env.VITEST;
    const forPort = (text: string) => text.replaceAll('localhost:3000', `localhost:${port}`);

    const [command, ...args] = start.command.split(' ');
    // Its own process group, so the test can press Ctrl-C as a terminal does.
    server = spawn(command as string, args, { cwd: app, env, detached: true });
    let printed = '';
    server.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      printed += chunk;
    });
    server.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      printed += chunk;
    });
    const running = server;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (printed.includes(forPort(start.output))) resolve();
      };
      running.stdout?.on('data', check);
      running.once('exit', (code) => reject(new Error(`app.ts exited (${code}):\n${printed}`)));
    });
    expect(printed.trim()).toBe(forPort(start.output));

    for (const { command: request, output } of requests) {
      const { stdout } = await sh('sh', ['-c', forPort(request)], { cwd: app, env });
      expect(stdout.trim(), `${request}\n(app.ts printed:\n${printed})`).toBe(output);
    }

    // The page's claim about the first terminal: the database was asked once.
    expect(loadedOnce).toBeDefined();
    expect(printed.split('\n').filter((line) => line === loadedOnce)).toHaveLength(1);
    expect(printed).not.toMatch(/error|warn/i);

    const closed = new Promise((resolve) => running.once('close', resolve));
    process.kill(-(running.pid as number), 'SIGINT'); // Ctrl-C
    await closed;
  }, 60_000);
});
