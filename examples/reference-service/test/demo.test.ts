import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const exampleDir = fileURLToPath(new URL('..', import.meta.url));
const packagesDir = fileURLToPath(new URL('../../../packages/', import.meta.url));
const used = ['core', 'testing', 'cache', 'lock', 'ratelimit', 'session', 'leaderboard', 'geo', 'queue'];

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** `pid` and all its descendants, from one `ps` listing. */
function processTree(pid: number): { pid: number; args: string }[] {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((match) => match !== null)
    .map(([, child, parent, args]) => ({ pid: Number(child), ppid: Number(parent), args: args as string }));
  const tree = rows.filter((row) => row.pid === pid);
  for (let i = 0; i < tree.length; i++) {
    tree.push(...rows.filter((row) => row.ppid === tree[i]?.pid));
  }
  return tree.map(({ pid: treePid, args }) => ({ pid: treePid, args }));
}

/** `ps` lines of process group `pgid` (the demo's: npm, node, redis-server). */
function groupListing(pgid: number): string {
  try {
    return execFileSync('ps', ['-o', 'pid=,ppid=,args=', '-g', String(pgid)], { encoding: 'utf8' });
  } catch {
    return '(none)';
  }
}

/** Whether anything accepts TCP connections on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls until none of `pids` runs (the reaper exits 200 ms after the demo), or the deadline passes. */
async function survivors(pids: number[], withinMs: number): Promise<number[]> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const left = pids.filter(alive);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Demo {
  child: ChildProcess;
  pid: number;
  url: string;
  httpPort: number;
  redisPort: number;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: ChildProcess[] = [];

/**
 * `npm run demo` as a person runs it: in its own process group (so the test
 * can send Ctrl-C to the group as a terminal does, or a signal to npm alone as
 * `kill` or a process manager does).
 */
async function startDemo(): Promise<Demo> {
  // The demo runs the packages as users get them: built (`npm test` builds first).
  const unbuilt = used.filter((name) => !existsSync(`${packagesDir}${name}/dist/index.js`));
  if (unbuilt.length > 0) throw new Error(`build the packages first (npm run build): no dist in ${unbuilt.join(', ')}`);

  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' };
  delete env.REDIS_URL;
  // The demo would create its tables in that database's public schema; PGlite leaves nothing behind.
  delete env.DATABASE_URL;
  delete env.NODE_OPTIONS;
  delete env.VITEST;
  const child = spawn('npm', ['run', '--silent', 'demo'], { cwd: exampleDir, env, detached: true });
  started.push(child);
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  // 'close': every process holding the output pipes (npm, node) has ended.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const found = /Dashboard: (http:\/\/\S+)\/dashboard/.exec(output);
      if (found?.[1]) resolve(found[1]);
    };
    child.stdout?.on('data', check);
    void exited.then(({ code }) => reject(new Error(`the demo exited (${code}) before printing its URL:\n${output}`)));
  });
  const redisPort = Number(
    /Redis: +redis:\/\/127\.0\.0\.1:(\d+) \(a redis-server started for the demo\)/.exec(output)?.[1],
  );
  return {
    child,
    pid: child.pid as number,
    url,
    httpPort: Number(new URL(url).port),
    redisPort,
    output: () => output,
    exited,
  };
}

/** Stops the demo with `stop`, then checks that nothing it started is left: no process of its tree, no listener. */
async function stopsCleanly(demo: Demo, stop: () => void, npmKilled = false): Promise<void> {
  const tree = processTree(demo.pid);
  const redisServer = tree.find(({ args }) => args.includes('redis-server') && args.includes(`:${demo.redisPort}`));
  expect(redisServer, `${demo.output()}\n${JSON.stringify(tree)}`).toBeDefined();
  expect(await listening(demo.httpPort)).toBe(true);
  expect(await listening(demo.redisPort)).toBe(true);

  stop();
  // The service stops within its own 10 s watchdog; a demo that ignores the signal fails here, not at the test timeout.
  let deadline: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    demo.exited,
    new Promise<undefined>((resolve) => {
      deadline = setTimeout(() => resolve(undefined), 30_000);
    }),
  ]);
  clearTimeout(deadline);
  expect(outcome, `still running 30 s after the signal:\n${groupListing(demo.pid)}`).toBeDefined();
  const { code, signal } = outcome as { code: number | null; signal: NodeJS.Signals | null };
  // npm exits 0 when the service stopped by itself, or re-raises SIGINT on itself (exit status 130 in a shell).
  const npmOutcome = npmKilled ? signal === 'SIGKILL' : code === 0 || signal === 'SIGINT';
  expect(npmOutcome, `code ${code}, signal ${signal}:\n${demo.output()}`).toBe(true);
  // The service shut down by itself (workers, HTTP, Redis), not killed.
  expect(demo.output()).toContain('\nstopped\n');
  expect(
    await survivors(
      tree.map(({ pid }) => pid).filter((pid) => pid !== demo.pid),
      5_000,
    ),
  ).toEqual([]);
  expect(alive(-demo.pid)).toBe(false);
  expect(await listening(demo.httpPort)).toBe(false);
  expect(await listening(demo.redisPort)).toBe(false);
}

// Three demos at once: each spends most of its start-up waiting, so together
// they take little longer than one.
describe.concurrent('npm run demo', () => {
  afterAll(() => {
    // Only when a test failed half-way: the reaper then stops redis-server.
    for (const child of started) if (child.pid && alive(-child.pid)) process.kill(-child.pid, 'SIGKILL');
  });

  it('serves the dashboard, and Ctrl-C (SIGINT to the process group) leaves nothing behind', async () => {
    const demo = await startDemo();
    const page = await fetch(`${demo.url}/dashboard`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('redkit reference service');
    const snapshot = (await (await fetch(`${demo.url}/dashboard/snapshot`)).json()) as { database: string };
    expect(snapshot.database).toBe('pglite');
    await stopsCleanly(demo, () => process.kill(-demo.pid, 'SIGINT'));
  }, 180_000);

  it('SIGINT to the npm process alone (kill, a process manager) leaves nothing behind', async () => {
    const demo = await startDemo();
    await stopsCleanly(demo, () => process.kill(demo.pid, 'SIGINT'));
  }, 180_000);

  it('the service stops by itself when npm is killed outright (SIGKILL, no signal passed on)', async () => {
    const demo = await startDemo();
    await stopsCleanly(demo, () => process.kill(demo.pid, 'SIGKILL'), true);
  }, 180_000);
});
