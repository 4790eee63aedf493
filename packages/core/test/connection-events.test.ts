import { createServer } from 'node:net';
import { connect, connectionEvents, type RedisConnection } from '@redkit/core';
import { type StandaloneRedis, startStandalone } from '@redkit/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

/** A loopback port nobody listens on (taken from the OS, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once the client has failed `attempts` connection attempts and scheduled the next. */
function failedAttempts(redis: RedisConnection, attempts: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const onReconnecting = () => {
      seen += 1;
      if (seen < attempts) return;
      redis.off('reconnecting', onReconnecting);
      resolve();
    };
    redis.on('reconnecting', onReconnecting);
  });
}

const fast = { connectTimeout: 500, reconnect: { minDelay: 10, maxDelay: 20 } };

describe('connect() to a server that cannot be reached', () => {
  let printed: string[];
  let warnings: string[];
  const onWarning = (warning: Error & { code?: string }) => {
    if (warning.code === 'REDKIT_REDIS_UNREACHABLE') warnings.push(warning.message);
  };
  const clients: RedisConnection[] = [];

  beforeEach(() => {
    printed = [];
    warnings = [];
    // ioredis prints "[ioredis] Unhandled error event: <stack>" with console.error
    // whenever it emits `error` and nobody listens.
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      printed.push(args.map(String).join(' '));
    });
    process.on('warning', onWarning);
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.disconnect();
    process.off('warning', onWarning);
    vi.restoreAllMocks();
  });

  it.each([
    ['a single server', (port: number) => connect({ url: `redis://127.0.0.1:${port}`, ...fast })],
    ['a cluster', (port: number) => connect({ url: `redis+cluster://127.0.0.1:${port}`, ...fast })],
  ])('%s: ioredis prints nothing, and one warning names the address for the whole outage', async (_, open) => {
    const port = await closedPort();
    const redis = open(port);
    clients.push(redis);
    await failedAttempts(redis, 3);
    // Warnings are delivered on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    expect(printed.filter((line) => line.includes('[ioredis]'))).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`cannot reach Redis at 127.0.0.1:${port}`);
  });

  it("the application's own error listener gets every error, and then redkit stays quiet", async () => {
    const port = await closedPort();
    const redis = connect({ url: `redis://127.0.0.1:${port}`, ...fast });
    clients.push(redis);
    const errors: string[] = [];
    redis.on('error', (error) => errors.push((error as NodeJS.ErrnoException).code ?? error.message));
    await failedAttempts(redis, 2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(new Set(errors)).toEqual(new Set(['ECONNREFUSED']));
    expect(warnings).toEqual([]);
    expect(printed.filter((line) => line.includes('[ioredis]'))).toEqual([]);
  });

  it('plain ioredis, for contrast, prints a stack trace per attempt', async () => {
    const port = await closedPort();
    const redis = new Redis({ port, host: '127.0.0.1', retryStrategy: () => 10 });
    clients.push(redis);
    await failedAttempts(redis, 2);
    expect(printed.filter((line) => line.includes('[ioredis] Unhandled error event')).length).toBeGreaterThanOrEqual(2);
  });
});

describe('connectionEvents()', () => {
  let server: StandaloneRedis;
  beforeAll(async () => {
    server = await startStandalone();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('reports each error while the server is down, then recovered once it is back', async () => {
    const redis = connect({ url: server.url, ...fast });
    try {
      await redis.ping();
      const events = connectionEvents(redis);
      expect(events).toBeDefined();
      const errors: string[] = [];
      events?.on('redis-error', ({ error, address }) => errors.push(`${address} ${error.message}`));
      const recovered = new Promise<{ address: string; downMs: number }>((resolve) => events?.on('recovered', resolve));

      await server.node.kill();
      await failedAttempts(redis, 2);
      await server.node.restart();
      const back = await recovered;

      expect(back.address).toBe(`127.0.0.1:${server.port}`);
      expect(back.downMs).toBeGreaterThan(0);
      expect(errors.length).toBeGreaterThanOrEqual(1);
      expect(errors.every((line) => line.startsWith(`127.0.0.1:${server.port} `))).toBe(true);
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });

  it('is undefined for a client that connect() did not open', () => {
    const plain = new Redis({ lazyConnect: true });
    expect(connectionEvents(plain)).toBeUndefined();
  });
});
