import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const exampleDir = fileURLToPath(new URL('..', import.meta.url));
const packagesDir = fileURLToPath(new URL('../../../packages/', import.meta.url));
const used = ['core', 'testing', 'cache', 'lock', 'ratelimit', 'session', 'leaderboard', 'geo', 'queue'];

/** Pids of the redis-server processes listening on `port`. */
function redisServersOn(port: number): number[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => /redis-server/.test(line) && line.includes(`:${port}`))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// `npm run demo` as a person runs it: its own process group, so SIGINT reaches
// npm, tsx and the service as Ctrl-C in a terminal does.
describe('npm run demo', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    // Only when the test failed half-way: the reaper then stops redis-server.
    if (child?.pid && alive(-child.pid)) process.kill(-child.pid, 'SIGKILL');
  });

  it('starts redis-server and the service, serves the dashboard, and leaves nothing behind on Ctrl-C', async () => {
    // The demo runs the packages as users get them: built (`npm test` builds first).
    const unbuilt = used.filter((name) => !existsSync(`${packagesDir}${name}/dist/index.js`));
    if (unbuilt.length > 0)
      throw new Error(`build the packages first (npm run build): no dist in ${unbuilt.join(', ')}`);

    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' };
    delete env.REDIS_URL;
    // The demo would create its tables in that database's public schema; PGlite leaves nothing behind.
    delete env.DATABASE_URL;
    delete env.NODE_OPTIONS;
    delete env.VITEST;
    const started = spawn('npm', ['run', '--silent', 'demo'], { cwd: exampleDir, env, detached: true });
    child = started;
    let output = '';
    started.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    started.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    // 'close': every process holding the output pipes (npm, sh, node) has ended.
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      started.once('close', (code, signal) => resolve({ code, signal })),
    );

    const url = await new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = /Dashboard: (http:\/\/\S+)\/dashboard/.exec(output);
        if (found?.[1]) resolve(found[1]);
      };
      started.stdout?.on('data', check);
      void exited.then(({ code }) =>
        reject(new Error(`the demo exited (${code}) before printing its URL:\n${output}`)),
      );
    });
    const redisPort = Number(
      /Redis: +redis:\/\/127\.0\.0\.1:(\d+) \(a redis-server started for the demo\)/.exec(output)?.[1],
    );
    const [redisPid] = redisServersOn(redisPort);
    expect(redisPid, output).toBeGreaterThan(0);

    const page = await fetch(`${url}/dashboard`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('redkit reference service');
    const snapshot = (await (await fetch(`${url}/dashboard/snapshot`)).json()) as { database: string };
    expect(snapshot.database).toBe('pglite');

    process.kill(-(started.pid as number), 'SIGINT');
    // npm re-raises the signal on itself once its script has exited, as after Ctrl-C in a shell (exit status 130).
    const { code, signal } = await exited;
    expect(code === 0 || signal === 'SIGINT', `code ${code}, signal ${signal}:\n${output}`).toBe(true);
    // The service shut down by itself (workers, HTTP, Redis), not killed.
    expect(output).toContain('\nstopped\n');
    expect(alive(redisPid as number)).toBe(false);
    expect(redisServersOn(redisPort)).toEqual([]);
    // Nothing of the demo's process group is left (npm, tsx, esbuild, node).
    expect(alive(-(started.pid as number))).toBe(false);
  }, 60_000);
});
