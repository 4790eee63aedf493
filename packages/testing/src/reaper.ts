import { type ChildProcess, spawn } from 'node:child_process';

/**
 * A tiny detached process that kills the servers, removes the containers and
 * the directories it was told about as soon as its stdin closes, which the OS
 * does when the process that started the servers ends for any reason (even
 * SIGKILL). So an interrupted test run never leaves a redis-server or a
 * container behind, without Ryuk (which cannot be pulled on air-gapped CI).
 */
const reaperSource = `
const { rmSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const pids = new Set(); const dirs = new Set(); const containers = new Set(); let buffer = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffer += chunk; let newline;
  while ((newline = buffer.indexOf('\\n')) >= 0) {
    const line = buffer.slice(0, newline); buffer = buffer.slice(newline + 1);
    const space = line.indexOf(' '); const verb = line.slice(0, space); const arg = line.slice(space + 1);
    if (verb === 'pid') pids.add(Number(arg)); else if (verb === 'unpid') pids.delete(Number(arg));
    else if (verb === 'dir') dirs.add(arg); else if (verb === 'undir') dirs.delete(arg);
    else if (verb === 'container') containers.add(arg); else if (verb === 'uncontainer') containers.delete(arg);
  }
});
process.stdin.on('end', () => {
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  if (containers.size > 0) {
    try { spawnSync('docker', ['rm', '--force', '--volumes', ...containers], { stdio: 'ignore', timeout: 60000 }); } catch {}
  }
  setTimeout(() => {
    for (const dir of dirs) { try { rmSync(dir, { recursive: true, force: true }); } catch {} }
    process.exit(0);
  }, 200);
});
`;

let reaper: ChildProcess | undefined;

function send(line: string): void {
  if (!reaper) {
    reaper = spawn(process.execPath, ['-e', reaperSource], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    reaper.unref();
    // The pipe must not keep this process alive; the OS closes it when we exit.
    (reaper.stdin as unknown as { unref?: () => void }).unref?.();
    reaper.stdin?.on('error', () => {});
  }
  reaper.stdin?.write(`${line}\n`);
}

/** Tells the reaper about a process or directory to clean up if we die. */
export const reap = {
  pid: (pid: number) => send(`pid ${pid}`),
  forgetPid: (pid: number) => send(`unpid ${pid}`),
  dir: (dir: string) => send(`dir ${dir}`),
  forgetDir: (dir: string) => send(`undir ${dir}`),
  container: (id: string) => send(`container ${id}`),
  forgetContainer: (id: string) => send(`uncontainer ${id}`),
};
