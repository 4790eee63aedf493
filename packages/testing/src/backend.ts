import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { redisBinaries } from './binaries.js';
import { BinaryNode } from './binary-node.js';
import { HarnessError } from './errors.js';
import type { NodeSpec, RedisNode } from './node.js';

/** Where harness servers run: local `redis-server` processes, or Docker containers. */
export type BackendName = 'binary' | 'docker';

/** Starts servers and runs `redis-cli` for one kind of backend. */
export interface Backend {
  readonly name: BackendName;
  startNode(spec: NodeSpec): Promise<RedisNode>;
  /** Runs `redis-cli` with `args` (next to `near` for the docker backend); resolves with its output. */
  redisCli(args: readonly string[], near: RedisNode): Promise<string>;
}

const run = promisify(execFile);

const binaryBackend: Backend = {
  name: 'binary',
  startNode: (spec) => BinaryNode.start(spec),
  async redisCli(args) {
    const { cli } = redisBinaries();
    try {
      const { stdout, stderr } = await run(cli, [...args], { timeout: 30_000 });
      return stdout + stderr;
    } catch (error) {
      const detail = error as { stdout?: string; stderr?: string };
      throw new HarnessError(`redis-cli ${args.join(' ')} failed: ${detail.stdout ?? ''}${detail.stderr ?? ''}`, {
        cause: error,
      });
    }
  },
};

/**
 * The backend to use: the `backend` option, else `REDKIT_TEST_BACKEND`
 * (`binary` or `docker`), else `binary`.
 */
export async function selectBackend(requested?: BackendName): Promise<Backend> {
  const name = requested ?? (process.env.REDKIT_TEST_BACKEND as BackendName | undefined) ?? 'binary';
  if (name === 'binary') {
    redisBinaries(); // fail loudly now, with the install hint, if it is missing
    return binaryBackend;
  }
  if (name === 'docker') {
    const { dockerBackend } = await import('./docker-node.js');
    return dockerBackend();
  }
  throw new HarnessError(`REDKIT_TEST_BACKEND must be "binary" or "docker", got ${JSON.stringify(name)}`);
}
