import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminCall } from './admin.js';
import type { Backend } from './backend.js';
import { type ServerLine, serverLine } from './binaries.js';
import { createCertificate, toArgs } from './binary-node.js';
import { HarnessError, RedisServerNotFoundError } from './errors.js';
import type { NodeSpec, RedisNode } from './node.js';
import { freePort } from './ports.js';
import { reap } from './reaper.js';
import { waitFor } from './wait.js';

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
  /** PEM of the self-signed certificate clients must trust, when serving TLS. */
  ca: string | undefined;
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
    const handle = this.handle();
    await handle.kill({ signal: 'SIGKILL' });
    // The engine answers once the signal is sent; a fault test must see the server gone.
    await handle.wait();
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
    await waitFor(async () => (await adminCall(this.host, this.port, ['PING'], 500)) === 'PONG', {
      timeoutMs: 15_000,
      intervalMs: 50,
      message: () => `container redis on port ${this.port} did not come back`,
      ignoreErrors: true,
    });
  }

  async stop(): Promise<void> {
    this.isRunning = false;
    await this.container.stop({ timeout: 0, remove: true });
    reap.forgetContainer(this.container.getId());
  }
}

/** A self-signed certificate and its key, made on the host and copied into the container. */
function certificateFiles(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'redkit-tls-'));
  try {
    const cert = createCertificate(dir);
    return { cert, key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
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
      // A free port can be taken by another process before the server binds it
      // (the server then exits at once): retry on another, as the binary backend does.
      let lastError: unknown;
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          return await startContainer(spec);
        } catch (error) {
          lastError = error;
        }
      }
      throw new HarnessError(`no container server started after 5 attempts: ${String(lastError)}`, {
        cause: lastError,
      });
    },
    async redisCli(args, near) {
      return (near as DockerNode).exec([cliBin, ...args]);
    },
  };

  async function startContainer(spec: NodeSpec): Promise<DockerNode> {
    if (spec.sentinel) return startSentinelContainer(spec.sentinel);
    const port = await freePort({ busPort: spec.cluster });
    const tls = spec.tls ? certificateFiles() : undefined;
    const listen: Record<string, string> = tls
      ? {
          port: '0',
          'tls-port': String(port),
          'tls-cert-file': '/tls/cert.pem',
          'tls-key-file': '/tls/key.pem',
          'tls-ca-cert-file': '/tls/cert.pem',
          'tls-auth-clients': 'no',
        }
      : { port: String(port) };
    const container = await new testcontainers.GenericContainer(image)
      .withCopyContentToContainer(
        tls
          ? [
              { content: tls.cert, target: '/tls/cert.pem', mode: 0o644 },
              { content: tls.key, target: '/tls/key.pem', mode: 0o644 },
            ]
          : [],
      )
      .withNetworkMode('host')
      .withLabels({ [harnessContainerLabel]: String(process.pid) })
      .withCommand([
        serverBin,
        ...toArgs({
          ...listen,
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
    const node = new DockerNode(port, container, runtime);
    node.ca = tls?.cert;
    return node;
  }

  /** A sentinel reads and rewrites its config file, so it gets one in the container. */
  async function startSentinelContainer(lines: readonly string[]): Promise<DockerNode> {
    const port = await freePort({ busPort: false });
    const config = [`port ${port}`, 'bind 127.0.0.1', 'dir /sentinel', 'protected-mode no', ...lines].join('\n');
    const container = await new testcontainers.GenericContainer(image)
      .withCopyContentToContainer([{ content: `${config}\n`, target: '/sentinel/sentinel.conf', mode: 0o666 }])
      .withNetworkMode('host')
      .withLabels({ [harnessContainerLabel]: String(process.pid) })
      .withCommand([serverBin, '/sentinel/sentinel.conf', '--sentinel'])
      .withWaitStrategy(testcontainers.Wait.forLogMessage(/Sentinel ID is/))
      .start();
    reap.container(container.getId());
    return new DockerNode(port, container, runtime);
  }
}
