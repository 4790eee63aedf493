import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect } from '@redkit/core';
import { type StandaloneRedis, startStandalone } from '@redkit/testing';
import { createApp } from './app.js';
import { type DeepPartial, type ServiceConfig, withConfig } from './config.js';
import { LiveDashboard } from './dashboard.js';
import { openDatabase } from './db.js';
import { createServices, type Services } from './services/index.js';

export interface StartOptions {
  /** Redis to use; without one, a private `redis-server` is started (and stopped by `close()`). */
  redisUrl?: string | undefined;
  /** PostgreSQL to use; without one, an in-memory PGlite. */
  databaseUrl?: string | undefined;
  /** PostgreSQL only: a schema of its own, dropped by `close()` (tests sharing a database). */
  databaseSchema?: string;
  /** @default 0 (any free port) */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
  config?: DeepPartial<ServiceConfig>;
  /** How often open dashboards are updated. @default 1000 */
  dashboardIntervalMs?: number;
}

export interface RunningService {
  /** `http://host:port` */
  readonly url: string;
  readonly redisUrl: string;
  /** The redis-server started for this service, if any. */
  readonly embeddedRedis: StandaloneRedis | undefined;
  readonly services: Services;
  /** Stops accepting requests, stops the workers, closes connections and the embedded servers. */
  close(): Promise<void>;
}

/** Starts the whole service: Redis (given or embedded), the database, the patterns, the workers, HTTP. */
export async function startService(options: StartOptions = {}): Promise<RunningService> {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  let closing = false;
  const cleanup = async () => {
    closing = true;
    for (const step of cleanups.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        console.error('shutdown step failed:', error);
      }
    }
  };
  try {
    let embeddedRedis: StandaloneRedis | undefined;
    let redisUrl = options.redisUrl;
    if (!redisUrl) {
      // The testing harness's launcher: a redis-server on a free loopback port, killed with this process.
      embeddedRedis = await startStandalone();
      cleanups.push(() => embeddedRedis?.stop());
      redisUrl = embeddedRedis.url;
    }
    const redis = connect(redisUrl);
    // ioredis reconnects by itself; calls fail fast meanwhile (the patterns' timeouts and failure modes decide).
    let reported = false;
    redis.on('error', (error: Error) => {
      if (!reported && !closing) console.error(`redis: ${error.message} (reconnecting)`);
      reported = true;
    });
    redis.on('ready', () => {
      reported = false;
    });
    cleanups.push(async () => {
      // quit() waits for replies; a server already gone (Ctrl-C reaches it too) must not hold up the exit.
      await Promise.race([redis.quit().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 500))]);
      redis.disconnect();
    });
    const db = await openDatabase({
      url: options.databaseUrl,
      ...(options.databaseSchema ? { schema: options.databaseSchema, dropOnClose: true } : {}),
    });
    cleanups.push(() => db.close());
    const services = await createServices(redis, db, withConfig(options.config));
    cleanups.push(() => services.close());
    const dashboard = new LiveDashboard(services, options.dashboardIntervalMs);
    const app = createApp({ services, dashboard });

    const server = app.listen(options.port ?? 0, options.host ?? '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(async () => {
      dashboard.close();
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await closed;
    });
    const { address, port } = server.address() as AddressInfo;
    return {
      url: `http://${address}:${port}`,
      redisUrl,
      embeddedRedis,
      services,
      close: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
