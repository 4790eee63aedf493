import { randomBytes } from 'node:crypto';
import type { CacheContext } from './cache-context.js';
import { beginLoad, releaseLease } from './scripts.js';

/**
 * Lease tokens only need to be unique, not secret: a random process prefix and
 * a counter (crypto.randomBytes per load cost about 10 µs on a miss).
 */
const tokenPrefix = randomBytes(9).toString('base64url');
let tokenCounter = 0;
const newToken = () => `${tokenPrefix}${(tokenCounter++).toString(36)}`;

/** What `begin` found: the entry as it is now, and whether this caller may load. */
export interface LeaseAttempt {
  /** The stored entry, read in the same step (another process may have filled it since our read). */
  readonly blob: string | null;
  /** The lease's token when this caller took it, '' when another process holds it. */
  readonly token: string;
  /** Server time in µs when the load began: a write or delete after it wins over the load. */
  readonly start: number;
}

/**
 * The cross-process half of stampede protection: one lease per key (`SET NX
 * PX` in the key's slot, in `begin-load`), so one process loads while the
 * others wait for its write or serve a stale value. The write of the loaded
 * value (`set-entry`) releases it; a load that fails releases it here.
 */
export class Leases {
  private readonly context: CacheContext;

  constructor(context: CacheContext) {
    this.context = context;
  }

  /** Re-reads the entry and tries to take the key's lease, for the load's hard timeout plus a second. */
  async begin(key: string, redisKey: string, hardTimeout: number): Promise<LeaseAttempt> {
    const { driver, keys, call } = this.context;
    const token = newToken();
    const [blob, taken, start] = await this.context.redis(() =>
      driver.script(beginLoad, [redisKey, keys.lease(key)], [token, hardTimeout + 1_000], call),
    );
    return { blob, token: taken === 1 ? token : '', start: Number(start) };
  }

  /** Gives the lease back if this caller still holds it. */
  release(key: string, token: string): Promise<number> {
    const { driver, keys, call } = this.context;
    return driver.script(releaseLease, [keys.lease(key)], [token], call);
  }
}
