import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * What the packaging tests share: packing the workspace packages with
 * `npm pack` (as the registry would serve them) and installing them into
 * throwaway projects outside the workspace. The packages must be built
 * (`npm test` builds first).
 */

/** The repository's root directory. */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

const execFileAsync = promisify(execFile);

/** What a command printed. */
export interface Printed {
  stdout: string;
  stderr: string;
}

/**
 * Runs a command and resolves what it printed; on failure the error message
 * carries the command, its exit (or the signal that ended it at `timeout`)
 * and everything it printed.
 */
export async function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number },
): Promise<Printed> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, {
      ...options,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      // SIGKILL: a stuck child must not outlive the test.
      killSignal: 'SIGKILL',
    });
    return { stdout, stderr };
  } catch (caught) {
    const error = caught as Error & Partial<Printed> & { code?: number | string; signal?: string };
    const how = error.signal ? `killed by ${error.signal}` : `exit ${String(error.code)}`;
    throw new Error(
      `${[command, ...args].join(' ')} (in ${options.cwd}) failed, ${how}\n--- stdout\n${error.stdout ?? ''}\n--- stderr\n${error.stderr ?? ''}`,
    );
  }
}

/** The manifests of the workspace packages under packages/, by name. */
function workspaceManifests(): Map<string, { dependencies?: Record<string, string> }> {
  return new Map(
    readdirSync(join(repoRoot, 'packages')).flatMap((dir) => {
      const file = join(repoRoot, 'packages', dir, 'package.json');
      if (!existsSync(file)) return [];
      const manifest = JSON.parse(readFileSync(file, 'utf8'));
      return [[manifest.name as string, manifest] as const];
    }),
  );
}

/**
 * `names` and the workspace packages they depend on, transitively: a project
 * needs all their tarballs, as `@redkit/core@0.1.0` is not on the registry.
 */
export function withWorkspaceDependencies(names: readonly string[]): string[] {
  const manifests = workspaceManifests();
  const needed = new Set<string>();
  const visit = (name: string) => {
    if (needed.has(name) || !manifests.has(name)) return;
    needed.add(name);
    for (const dependency of Object.keys(manifests.get(name)?.dependencies ?? {})) visit(dependency);
  };
  for (const name of names) visit(name);
  return [...needed];
}

/**
 * Packs the workspace packages `names` (and those they depend on) into
 * `destination` with one `npm pack`, and resolves each package's tarball
 * path, by name.
 */
export async function packTarballs(destination: string, names: readonly string[]): Promise<Map<string, string>> {
  const all = withWorkspaceDependencies(names);
  await run('npm', ['pack', '--silent', '--pack-destination', destination, ...all.flatMap((name) => ['-w', name])], {
    cwd: repoRoot,
  });
  const files = readdirSync(destination).filter((file) => file.endsWith('.tgz'));
  const tarballs = new Map<string, string>();
  for (const name of all) {
    // npm names the tarball of @scope/name@1.2.3 "scope-name-1.2.3.tgz".
    const prefix = `${name.slice(1).replace('/', '-')}-`;
    const file = files.find((candidate) => candidate.startsWith(prefix) && /^\d/.test(candidate.slice(prefix.length)));
    if (!file) throw new Error(`npm pack made no tarball for ${name} in ${destination}: ${files.join(', ')}`);
    tarballs.set(name, join(destination, file));
  }
  return tarballs;
}

/**
 * The version of `name` this repository installed (an alias such as
 * `express4` gives the version behind it), so that npm can take it from its
 * cache and the throwaway projects follow the repository's upgrades.
 */
export function repoVersion(name: string): string {
  const places = [
    join(repoRoot, 'node_modules', name),
    ...readdirSync(join(repoRoot, 'packages')).map((dir) => join(repoRoot, 'packages', dir, 'node_modules', name)),
  ];
  const found = places.find((place) => existsSync(join(place, 'package.json')));
  if (!found) throw new Error(`${name} is not installed in the repository`);
  return JSON.parse(readFileSync(join(found, 'package.json'), 'utf8')).version;
}

/** How every throwaway project installs: from npm's cache when it can, quietly. */
export const installFlags = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

/**
 * The environment a child npm or node gets: the test runner's, without what
 * would change a plain `npm install` (peer-dependency overrides) or a plain
 * `node` (vitest's own variables and loader options).
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const key of Object.keys(env)) {
    if (/^npm_config_(legacy_peer_deps|force|strict_peer_deps|omit|production)$/i.test(key)) delete env[key];
  }
  delete env.NODE_OPTIONS;
  delete env.VITEST;
  delete env.VITEST_MODE;
  delete env.VITEST_POOL_ID;
  delete env.VITEST_WORKER_ID;
  return env;
}

/**
 * Makes `directory` a project depending on `dependencies` (registry
 * versions) and the given tarballs, and runs a plain `npm install` in it
 * (no `--legacy-peer-deps`: every peer range must resolve as a user's would).
 */
export async function installProject(
  directory: string,
  dependencies: Record<string, string>,
  tarballs: ReadonlyMap<string, string>,
  options: { type?: 'module' | 'commonjs'; timeout?: number } = {},
): Promise<void> {
  mkdirSync(directory, { recursive: true });
  const all: Record<string, string> = { ...dependencies };
  for (const [name, path] of tarballs) all[name] = `file:${path}`;
  const manifest = { name: 'app', private: true, ...(options.type ? { type: options.type } : {}), dependencies: all };
  writeFileSync(join(directory, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await run('npm', ['install', ...installFlags], { cwd: directory, env: childEnv(), timeout: options.timeout });
}
