import { adminCall, waitFor } from './admin.js';
import type { Backend } from './backend.js';
import { type ServerLine, serverLine } from './binaries.js';
import { toArgs } from './binary-node.js';
import { HarnessError, RedisServerNotFoundError } from './errors.js';
import type { NodeSpec, RedisNode } from './node.js';
import { freePort } from './ports.js';
import { reap } from './reaper.js';

type Testcontainers = typeof import('testcontainers');
type StartedContainer = Awaited<ReturnType<InstanceType<Testcontainers['GenericContainer']>['start']>>;
type RuntimeClient = Awaited<ReturnType<Testcontainers['getContainerRuntimeClient']>>;

/** Image of each server line's containers; override with REDKIT_REDIS_IMAGE. */
const defaultImages: Record<ServerLine, string> = { redis: 'redis:7.0', valkey: 'valkey/valkey:8.0' };

/**
 * Label on every container the harness starts; `scripts/check-leftovers.mjs`
 * and users' own clean-up find them by it. The value is the owning process id.
 */
export const harnessContainerLabel = 'dev.redkit.harness';

/**
 * A server in a Docker container on the host network, so the addresses that
 * cluster nodes announce are reachable from the tests (Linux Docker engines).
 * Containers are labelled and handed to the reaper, so they are removed when
 * the test process ends, even by SIGKILL, without Ryuk.
 */
class DockerNode implements RedisNode {
  readonly host = '127.0.0.1';
  readonly port: number;
  private readonly container: StartedContainer;
  private readonly runtime: RuntimeClient;
  private isRunning = true;
  private isPaused = false;

  constructor(port: number, container: StartedContainer, runtime: RuntimeClient) {
    this.port = port;
    this.container = container;
    this.runtime = runtime;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }
  get running(): boolean {
    return this.isRunning;
  }
  get paused(): boolean {
    return this.isPaused;
  }

  private handle() {
    return this.runtime.container.getById(this.container.getId());
  }

  async exec(command: string[]): Promise<string> {
    const result = await this.container.exec(command);
    return result.output;
  }

  async kill(): Promise<void> {
    if (!this.isRunning) return;
    await this.handle().kill({ signal: 'SIGKILL' });
    this.isRunning = false;
    this.isPaused = false;
  }

  async pause(): Promise<void> {
    await this.handle().pause();
    this.isPaused = true;
  }

  async resume(): Promise<void> {
    await this.handle().unpause();
    this.isPaused = false;
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.handle().start();
    this.isRunning = true;
    await waitFor(
      async () => (await adminCall(this.host, this.port, ['PING'], 500)) === 'PONG',
      15_000,
      () => `container redis on port ${this.port} did not come back`,
    );
  }

  async stop(): Promise<void> {
    this.isRunning = false;
    await this.container.stop({ timeout: 0, remove: true });
    reap.forgetContainer(this.container.getId());
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes harness containers whose owning process is gone: the reaper removes
 * a process's containers when it dies, but one killed while a container was
 * still being created could not name it yet.
 */
async function removeOrphans(runtime: RuntimeClient): Promise<void> {
  const { dockerode } = runtime.container;
  const containers = await dockerode.listContainers({ all: true, filters: { label: [harnessContainerLabel] } });
  const orphans = containers.filter((info) => {
    const owner = Number(info.Labels?.[harnessContainerLabel]);
    return Number.isInteger(owner) && owner > 0 && !processAlive(owner);
  });
  await Promise.all(
    orphans.map((info) =>
      dockerode
        .getContainer(info.Id)
        .remove({ force: true, v: true })
        .catch(() => {}),
    ),
  );
}

/** The docker backend; fails with the install hint when no engine is reachable. */
export async function dockerBackend(): Promise<Backend> {
  let testcontainers: Testcontainers;
  try {
    testcontainers = await import('testcontainers');
  } catch (error) {
    throw new RedisServerNotFoundError(
      `REDKIT_TEST_BACKEND=docker needs the testcontainers package (${String(error)})`,
    );
  }
  let runtime: RuntimeClient;
  try {
    runtime = await testcontainers.getContainerRuntimeClient();
  } catch (error) {
    throw new RedisServerNotFoundError(
      `REDKIT_TEST_BACKEND=docker but no Docker engine is reachable (${String(error)})`,
    );
  }
  const line = serverLine();
  const image = process.env.REDKIT_REDIS_IMAGE ?? defaultImages[line];
  // The official images and scripts/build-redis-image.sh both name the binaries after the line.
  const [serverBin, cliBin] = [`${line}-server`, `${line}-cli`];
  await removeOrphans(runtime);
  return {
    name: 'docker',
    async startNode(spec: NodeSpec) {
      if (spec.tls) throw new HarnessError('TLS servers are only available with the binary backend');
      const port = await freePort({ busPort: spec.cluster });
      const container = await new testcontainers.GenericContainer(image)
        .withNetworkMode('host')
        .withLabels({ [harnessContainerLabel]: String(process.pid) })
        .withCommand([
          serverBin,
          ...toArgs({
            port: String(port),
            bind: '127.0.0.1',
            save: '',
            appendonly: 'no',
            'protected-mode': 'no',
            'repl-diskless-sync': 'yes',
            'repl-diskless-sync-delay': '0',
          }),
          ...spec.args,
        ])
        .withWaitStrategy(testcontainers.Wait.forLogMessage(/Ready to accept connections/))
        .start();
      reap.container(container.getId());
      return new DockerNode(port, container, runtime);
    },
    async redisCli(args, near) {
      return (near as DockerNode).exec([cliBin, ...args]);
    },
  };
}
