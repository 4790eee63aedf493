import { RateLimiter, type RateLimiterOptions } from '@redkit/ratelimit';
import { type ReplicatedRedis, startReplicated, untilServed } from '@redkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The worst case for a limiter on replicated Redis: a replica has just been
 * through a full resync and its master streams nothing to it yet (Redis 7.0
 * waits for the replica's next acknowledgement, about 1 s), then the master
 * crashes. Measures how many requests get in beyond the limit without WAIT,
 * and checks the bound `replicas` gives.
 */
describe.each(['sentinel', 'cluster'] as const)('a crash failover right after a replica resync (%s)', (kind) => {
  let deployment: ReplicatedRedis;
  beforeAll(async () => {
    deployment = await startReplicated(kind);
  });
  afterAll(() => deployment?.stop());

  const limit = 100;
  const base = {
    namespace: 'failover',
    policies: [{ algorithm: 'fixed-window', limit, window: '1h', align: 'first-hit' }],
    timeout: 500,
    failure: { mode: 'closed' },
  } satisfies Omit<RateLimiterOptions, 'redis'>;

  /** Admits up to `limit` requests right after a stalled resync, crashes the master, then admits until denied. */
  async function admitThenCrash(subject: string, limiter: RateLimiter, stalled: boolean) {
    const master = await deployment.masterOf(`failover:{${subject}}`);
    const [replica] = await deployment.replicasOf(master);
    if (!replica) throw new Error('the master has no replica');
    // The measurement needs the worst case (a stalled replica); the bound with WAIT holds either way.
    const { streaming } = await deployment.resync(replica, { stalled });
    if (stalled) expect(streaming).toBe(false);

    const before = await Promise.all(Array.from({ length: limit }, () => limiter.limit(subject)));
    await deployment.failover(master, { mode: 'kill' });

    let after = 0;
    for (let i = 0; i < 2 * limit; i++) {
      const result = await untilServed(() => limiter.limit(subject));
      if (result.decidedBy !== 'redis') continue;
      if (!result.allowed) break;
      after++;
    }
    return {
      before: before.filter((result) => result.allowed).length,
      shortfall: before.filter((result) => result.decidedBy === 'replica-shortfall').length,
      after,
    };
  }

  // The stall needs a replica restarted in milliseconds: containers restart too slowly to reach it.
  it.skipIf(process.env.REDKIT_TEST_BACKEND === 'docker')(
    'without WAIT: the new master forgot the admitted requests and admits up to the limit again',
    async () => {
      const limiter = new RateLimiter({ ...base, redis: deployment.client() });
      const { before, after } = await admitThenCrash('plain', limiter, true);
      console.log(
        `[ratelimit] no WAIT, crash right after a stalled resync: admitted ${before + after} of limit ${limit}`,
      );
      expect(before).toBe(limit);
      expect(after).toBe(limit);
    },
    90_000,
  );

  it('with replicas: { count: 1 } (deny on shortfall): never more than the limit', async () => {
    const limiter = new RateLimiter({
      ...base,
      redis: deployment.client(),
      replicas: { count: 1, timeout: 100 },
    });
    const { before, shortfall, after } = await admitThenCrash('waited', limiter, false);
    console.log(
      `[ratelimit] replicas { count: 1, timeout: 100 }: admitted ${before} + ${after} after the crash of limit ${limit}; ` +
        `${shortfall} denied for want of a replica`,
    );
    expect(before + shortfall).toBe(limit);
    expect(before + after).toBeLessThanOrEqual(limit);
  }, 90_000);
});
