import { type ConnectOptions, connect, type RedisConnection } from '@redkit/core';
import type { Redis } from 'ioredis';
import { type BackendName, selectBackend } from './backend.js';
import type { RedisNode } from './node.js';

/** Connection options for harness clients (the address comes from the harness). */
export type ClientOptions = Omit<ConnectOptions, 'url' | 'host' | 'port' | 'nodes'>;

export interface StandaloneOptions {
  /** @default REDKIT_TEST_BACKEND or "binary" */
  backend?: BackendName;
  /** Extra `redis-server` arguments, e.g. `['--maxmemory-policy', 'allkeys-lru']`. */
  args?: string[];
  /**
   * Serve TLS only (`rediss://`), with a fresh self-signed certificate for
   * 127.0.0.1; `client()` trusts it. Binary backend only. @default false
   */
  tls?: boolean;
}

/** A standalone server started by the harness. */
export interface StandaloneRedis {
  readonly backend: BackendName;
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:<port>` (`rediss://` with TLS). */
  readonly url: string;
  /** The certificate (PEM) to trust when the server serves TLS. */
  readonly ca?: string;
  /** The server, for fault injection (kill, pause, resume, restart). */
  readonly node: RedisNode;
  /** A client made with @redkit/core's `connect()`; closed by `stop()`. */
  client(options?: ClientOptions): Redis;
  /** Closes the clients, kills the server and removes its files. */
  stop(): Promise<void>;
}

/** Disconnects every client it made when closed. */
export class ClientTracker {
  private readonly clients = new Set<RedisConnection>();

  track<Client extends RedisConnection>(client: Client): Client {
    // A harness client outlives the faults a test injects; errors surface through calls.
    client.on('error', () => {});
    this.clients.add(client);
    client.once('end', () => this.clients.delete(client));
    return client;
  }

  closeAll(): void {
    for (const client of this.clients) client.disconnect();
    this.clients.clear();
  }
}

/**
 * Starts a standalone `redis-server` on a free loopback port.
 *
 * @example
 * ```ts
 * const server = await startStandalone()
 * const redis = server.client()
 * await server.node.pause() // Redis stops answering
 * await server.stop()
 * ```
 */
export async function startStandalone(options: StandaloneOptions = {}): Promise<StandaloneRedis> {
  const backend = await selectBackend(options.backend);
  const node = await backend.startNode({ args: options.args ?? [], cluster: false, tls: options.tls ?? false });
  const clients = new ClientTracker();
  const ca = (node as { ca?: string }).ca;
  const url = `${ca ? 'rediss' : 'redis'}://${node.host}:${node.port}`;
  return {
    backend: backend.name,
    host: node.host,
    port: node.port,
    url,
    ...(ca ? { ca } : {}),
    node,
    client: (clientOptions) =>
      clients.track(connect({ ...(ca ? { tls: { ca } } : {}), ...clientOptions, url }) as Redis),
    async stop() {
      clients.closeAll();
      await node.stop();
    },
  };
}
