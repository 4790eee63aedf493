import { adminCall, waitFor } from './admin.js';
import type { Backend } from './backend.js';
import { toArgs } from './binary-node.js';
import { HarnessError, RedisServerNotFoundError } from './errors.js';
import type { NodeSpec, RedisNode } from './node.js';
import { freePort } from './ports.js';

type Testcontainers = typeof import('testcontainers');
type StartedContainer = Awaited<ReturnType<InstanceType<Testcontainers['GenericContainer']>['start']>>;
type RuntimeClient = Awaited<ReturnType<Testcontainers['getContainerRuntimeClient']>>;

/** Image of the docker backend's servers; override with REDKIT_REDIS_IMAGE. */
const defaultImage = 'redis:7.0';

/**
 * A server in a Docker container on the host network, so the addresses that
 * cluster nodes announce are reachable from the tests (Linux Docker engines;
 * not exercised by this repository's CI, which has no Docker engine).
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
  }
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
  const image = process.env.REDKIT_REDIS_IMAGE ?? defaultImage;
  return {
    name: 'docker',
    async startNode(spec: NodeSpec) {
      if (spec.tls) throw new HarnessError('TLS servers are only available with the binary backend');
      const port = await freePort({ busPort: spec.cluster });
      const container = await new testcontainers.GenericContainer(image)
        .withNetworkMode('host')
        .withCommand([
          'redis-server',
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
      return new DockerNode(port, container, runtime);
    },
    async redisCli(args, near) {
      return (near as DockerNode).exec(['redis-cli', ...args]);
    },
  };
}
