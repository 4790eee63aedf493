import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminCall } from './admin.js';
import { redisBinaries } from './binaries.js';
import { HarnessError } from './errors.js';
import type { NodeSpec, RedisNode } from './node.js';
import { freePort } from './ports.js';
import { reap } from './reaper.js';
import { waitFor } from './wait.js';

const startTimeoutMs = 10_000;

/** `{ port: '1' }` → `['--port', '1']`. */
export function toArgs(settings: Record<string, string>): string[] {
  return Object.entries(settings).flatMap(([name, value]) => [`--${name}`, value]);
}

/** Writes a one-day self-signed certificate for 127.0.0.1 into `dir` (`cert.pem`, `key.pem`); returns its PEM. */
export function createCertificate(dir: string): string {
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
  } catch (error) {
    throw new HarnessError('a TLS server needs openssl on PATH to make its certificate', { cause: error });
  }
  return readFileSync(join(dir, 'cert.pem'), 'utf8');
}

/** A `redis-server` child process on a loopback port, in its own temp directory. */
export class BinaryNode implements RedisNode {
  readonly host = '127.0.0.1';
  readonly port: number;
  readonly dir: string;
  private readonly spec: NodeSpec;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private isPaused = false;
  /** PEM of the self-signed certificate clients must trust, when serving TLS. */
  readonly ca: string | undefined;

  private constructor(port: number, dir: string, spec: NodeSpec) {
    this.port = port;
    this.dir = dir;
    this.spec = spec;
    this.ca = spec.tls ? createCertificate(dir) : undefined;
  }

  /** Starts a server on a free port, retrying on another port if it was taken meanwhile. */
  static async start(spec: NodeSpec): Promise<BinaryNode> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = await freePort({ busPort: spec.cluster });
      const dir = mkdtempSync(join(tmpdir(), `redkit-redis-${port}-`));
      reap.dir(dir);
      const node = new BinaryNode(port, dir, spec);
      try {
        await node.launch();
        return node;
      } catch (error) {
        lastError = error;
        await node.stop();
      }
    }
    throw new HarnessError(`redis-server did not start: ${String(lastError)}`, { cause: lastError });
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get paused(): boolean {
    return this.isPaused;
  }

  private log(): string {
    try {
      return readFileSync(join(this.dir, 'redis.log'), 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '(no log)';
    }
  }

  private async launch(): Promise<void> {
    const { server } = redisBinaries();
    const listen: Record<string, string> = this.spec.tls
      ? {
          port: '0',
          'tls-port': String(this.port),
          'tls-cert-file': join(this.dir, 'cert.pem'),
          'tls-key-file': join(this.dir, 'key.pem'),
          'tls-ca-cert-file': join(this.dir, 'cert.pem'),
          'tls-auth-clients': 'no',
        }
      : { port: String(this.port) };
    const settings: Record<string, string> = {
      ...listen,
      bind: this.host,
      dir: this.dir,
      logfile: join(this.dir, 'redis.log'),
      save: '',
      appendonly: 'no',
      daemonize: 'no',
      'protected-mode': 'no',
      // Replicas sync at once instead of waiting for more replicas to join.
      'repl-diskless-sync': 'yes',
      'repl-diskless-sync-delay': '0',
    };
    const args = this.spec.sentinel ? this.sentinelArgs() : [...toArgs(settings), ...this.spec.args];
    this.repairClusterConfig();
    const child = spawn(server, args, { stdio: 'ignore' });
    this.child = child;
    this.isPaused = false;
    if (child.pid) reap.pid(child.pid);
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        if (child.pid) reap.forgetPid(child.pid);
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
    });
    await waitFor(
      async () => {
        if (spawnError) throw spawnError;
        if (!this.child) throw new HarnessError(`redis-server on port ${this.port} exited:\n${this.log()}`);
        const tls = this.ca ? { ca: this.ca } : undefined;
        return (await adminCall(this.host, this.port, ['PING'], 500, tls)) === 'PONG';
      },
      {
        timeoutMs: startTimeoutMs,
        intervalMs: 20,
        message: () =>
          `redis-server on port ${this.port} did not answer PING within ${startTimeoutMs}ms:\n${this.log()}`,
        ignoreErrors: true,
      },
    ).catch((error: unknown) => {
      // waitFor swallows errors from check(); surface an early exit clearly.
      if (spawnError) throw new HarnessError(`cannot run redis-server: ${spawnError.message}`, { cause: spawnError });
      throw error;
    });
  }

  /** A sentinel reads (and rewrites) a config file; it is written once, at the first start. */
  private sentinelArgs(): string[] {
    const config = join(this.dir, 'sentinel.conf');
    if (!existsSync(config)) {
      const lines = [
        `port ${this.port}`,
        `bind ${this.host}`,
        `dir ${this.dir}`,
        `logfile ${join(this.dir, 'redis.log')}`,
        'daemonize no',
        'protected-mode no',
        ...(this.spec.sentinel ?? []),
      ];
      writeFileSync(config, `${lines.join('\n')}\n`);
    }
    return [config, '--sentinel'];
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.keepClusterConfig();
    child.kill('SIGKILL');
    await this.exited;
    this.isPaused = false;
  }

  async pause(): Promise<void> {
    if (!this.child) throw new HarnessError(`cannot pause ${this.address}: it is not running`);
    this.child.kill('SIGSTOP');
    this.isPaused = true;
  }

  async resume(): Promise<void> {
    if (!this.child) throw new HarnessError(`cannot resume ${this.address}: it is not running`);
    this.child.kill('SIGCONT');
    this.isPaused = false;
  }

  /**
   * A server writes its cluster config (`nodes.conf`) in place; Valkey 8.0
   * killed in the middle of a write leaves it cut short and then refuses to
   * start ("corrupted cluster config file"). A copy taken just before the kill
   * lets a restart rejoin as the same node, as a crashed server whose disk
   * survived would.
   */
  private keepClusterConfig(): void {
    const config = join(this.dir, 'nodes.conf');
    if (this.spec.cluster && existsSync(config)) copyFileSync(config, `${config}.before-kill`);
  }

  /** Puts back the copy of `nodes.conf` when the file lacks its whole last line (`vars currentEpoch …`), i.e. was cut short. */
  private repairClusterConfig(): void {
    const config = join(this.dir, 'nodes.conf');
    const copy = `${config}.before-kill`;
    if (!existsSync(config) || !existsSync(copy)) return;
    if (!/^vars currentEpoch \d+ lastVoteEpoch \d+\s*$/m.test(readFileSync(config, 'utf8'))) copyFileSync(copy, config);
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
    reap.forgetDir(this.dir);
  }
}
