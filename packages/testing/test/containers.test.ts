import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backend.js';
import { harnessContainerLabel } from '../src/docker-node.js';

// The docker backend's own clean-up, without Ryuk: only meaningful when the
// suite runs on containers (CI's container pass sets REDKIT_TEST_BACKEND=docker).
const onDocker = process.env.REDKIT_TEST_BACKEND === 'docker';
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const run = promisify(execFile);

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { timeout: 60_000 });
  return stdout.trim();
}

async function containersOf(pid: number): Promise<string[]> {
  const ids = await docker('ps', '--all', '--quiet', '--filter', `label=${harnessContainerLabel}=${pid}`);
  return ids ? ids.split('\n') : [];
}

describe.runIf(onDocker)('docker backend clean-up', () => {
  it('a test process killed with SIGKILL leaves no container behind', async () => {
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const { startStandalone } = await import('@redkit/testing');" +
          "const server = await startStandalone({ backend: 'docker' });" +
          'console.log(server.port); setInterval(() => {}, 1000);',
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout?.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    const pid = child.pid as number;
    expect(await containersOf(pid)).toHaveLength(1);

    child.kill('SIGKILL');

    await expect.poll(() => containersOf(pid), { timeout: 30_000, interval: 250 }).toEqual([]);
  });

  it('starting the backend removes containers whose owning process is gone', async () => {
    // A process that has already exited stands for a test run killed mid-start.
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => gone.once('exit', resolve));
    const image = process.env.REDKIT_REDIS_IMAGE ?? 'redis:7.0';
    await docker('create', '--label', `${harnessContainerLabel}=${gone.pid}`, image);
    expect(await containersOf(gone.pid as number)).toHaveLength(1);

    await selectBackend('docker');

    expect(await containersOf(gone.pid as number)).toEqual([]);
  });
});
