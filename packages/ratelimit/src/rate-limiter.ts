import { randomUUID } from 'node:crypto';
import {
  checkReplicaWait,
  type Duration,
  defineScript,
  driverFor,
  escapeKeyPart,
  InvalidOptionsError,
  Keyspace,
  type LuaScript,
  parseOptions,
  type RedisDriver,
  RedisUnavailableError,
  TelemetryEmitter,
  waitForReplicas,
  warnIfEvictable,
} from '@redkit/core';
import { algorithmOf } from './algorithms/index.js';
import { checkLimitsScript } from './check-limits-script.js';
import { type Decision, decodeDecision } from './decision.js';
import { DeniedCache } from './denied-cache.js';
import { RateLimitedError } from './errors.js';
import type { RateLimitEvents } from './events.js';
import { MemoryLimiter } from './memory-limiter.js';
import {
  blockCallSchema,
  type LimitCallOptions,
  limitCallSchema,
  type Policy,
  policyCapacity,
  type RateLimiterOptions,
  type ResolvedRateLimiterOptions,
  rateLimiterOptionsSchema,
  subjectSchema,
} from './options.js';
import { refundLimitsScript } from './refund-limits-script.js';
import type { DecidedBy, Lease, LimitResult, PolicyResult } from './result.js';
import releaseLeasesSource from './scripts/release-leases.lua';

const releaseLeases = defineScript<number>('release-leases', releaseLeasesSource);

/** How long a fail-closed denial asks the client to wait. */
const failClosedRetryMs = 1_000;

/**
 * Rate limits subjects (users, IPs, API keys) with one or more policies,
 * checked and consumed atomically in one round trip: a request is admitted
 * only when every policy admits it, and then consumes from all of them.
 *
 * @example
 * ```ts
 * const limiter = new RateLimiter({
 *   redis,
 *   namespace: 'api',
 *   policies: [
 *     { name: 'second', algorithm: 'fixed-window', limit: 10, window: '1s' },
 *     { name: 'day', algorithm: 'sliding-window', limit: 1000, window: '1d' },
 *   ],
 * })
 * const result = await limiter.limit(`user:${userId}`)
 * if (!result.allowed) reply.status(429).header('Retry-After', Math.ceil(result.retryAfterMs / 1000))
 * ```
 */
export class RateLimiter {
  /** The policies, with defaults applied and names given to unnamed ones. */
  readonly policies: readonly Policy[];
  /** Typed telemetry events: `allowed`, `denied`, `blocked`, `redis-failure`. */
  readonly events: TelemetryEmitter<RateLimitEvents>;
  private readonly options: ResolvedRateLimiterOptions;
  private readonly driver: RedisDriver;
  private readonly keyspace: Keyspace;
  private readonly checkLimits: LuaScript<string>;
  /** Key suffixes after `<namespace>:{<subject>}:`, escaped once: check-limits' KEYS, in order. */
  private readonly checkSuffixes: readonly string[];
  private readonly refundSuffixes: readonly string[];
  /** Gives units back to the refundable policies; undefined when there are none. */
  private readonly refundLimits: LuaScript<number> | undefined;
  private readonly leaseSuffixes: readonly string[];
  private readonly allSuffixes: readonly string[];
  private readonly needsRequestId: boolean;
  private readonly maxCost: number;
  private readonly fallback: MemoryLimiter | undefined;
  private readonly deniedCache: DeniedCache | undefined;

  constructor(options: RateLimiterOptions) {
    this.options = parseOptions(rateLimiterOptionsSchema, options, 'RateLimiter');
    this.policies = this.options.policies;
    this.keyspace = new Keyspace(this.options.namespace);
    this.driver = driverFor(this.options.redis);
    checkReplicaWait(this.options.replicas, this.driver, 'replicas', 'RateLimiter');
    this.events = new TelemetryEmitter<RateLimitEvents>('ratelimit');

    // The algorithm is part of the key, so changing a policy's algorithm never
    // reads state written in another layout.
    const suffixes = this.policies.map((policy) => ['p', policy.name, policy.algorithm].map(escapeKeyPart).join(':'));
    const penalty = this.options.penalty;
    const { consumeOnDeny, blocks } = this.options;
    this.checkLimits = checkLimitsScript({ policies: this.policies, consumeOnDeny, penalty, blocks });
    this.checkSuffixes = [...(blocks ? ['block'] : []), ...suffixes, ...(penalty ? ['penalty'] : [])];
    this.allSuffixes = ['block', 'penalty', ...suffixes];
    const suffixOf = new Map(this.policies.map((policy, index) => [policy, suffixes[index] as string]));
    const refund = refundLimitsScript(this.policies);
    this.refundLimits = refund?.script;
    this.refundSuffixes = refund?.policies.map((policy) => suffixOf.get(policy) as string) ?? [];
    this.leaseSuffixes = this.policies.flatMap((policy) =>
      algorithmOf(policy).lease ? [suffixOf.get(policy) as string] : [],
    );
    this.needsRequestId = this.policies.some((policy) => algorithmOf(policy).needsRequestId);
    this.maxCost = Math.min(...this.policies.map(policyCapacity));

    const { failure } = this.options;
    if (failure.mode === 'fallback') {
      this.fallback = new MemoryLimiter(
        this.policies.map((policy) =>
          failure.fallbackShare === 1 ? policy : algorithmOf(policy).scale(policy, failure.fallbackShare),
        ),
        failure.fallbackMaxSubjects,
      );
    }
    if (this.options.deniedCache) this.deniedCache = new DeniedCache(this.options.deniedCache.maxSubjects);
    // Limiter state must not be evicted under memory pressure; say so once if it may be.
    void warnIfEvictable(this.driver, 'rate limiter');
  }

  /**
   * Checks the subject against every policy and, when all admit it, consumes
   * `cost` from each, atomically, in one round trip.
   */
  async limit(subject: string, options?: LimitCallOptions): Promise<LimitResult> {
    const cost = this.validate(subject, options);
    const started = performance.now();

    const cachedMs = this.deniedCache?.deniedFor(subject, cost, started) ?? 0;
    if (cachedMs > 0) {
      return this.finish(subject, cost, started, 'denied-cache', {
        allowed: false,
        blockedForMs: 0,
        policies: this.policies.map((policy) => exhausted(policy, cachedMs)),
      });
    }

    const requestId = this.needsRequestId ? randomUUID() : '';
    let decision: Decision;
    try {
      decision = decodeDecision(await this.runCheck(subject, cost, requestId, true), this.policies, true);
    } catch (error) {
      return this.onRedisFailure(subject, cost, started, requestId, error);
    }
    if (!decision.allowed) this.deniedCache?.remember(subject, cost, started, retryAfter(decision));
    if (decision.blockedForMs > 0 && !decision.alreadyBlocked) {
      this.events.emit('blocked', { subject, blockMs: decision.blockedForMs });
    }
    const lease =
      decision.allowed && this.leaseSuffixes.length > 0 ? this.redisLease(subject, requestId, cost) : undefined;
    if (decision.allowed && this.options.replicas) return this.replicate(subject, cost, started, decision, lease);
    return this.finish(subject, cost, started, 'redis', decision, lease);
  }

  /**
   * WAIT until `replicas.count` replicas acknowledged the admitting check,
   * then apply `replicas.onShortfall` when fewer did in time.
   */
  private async replicate(
    subject: string,
    cost: number,
    started: number,
    decision: Decision,
    lease: Lease | undefined,
  ): Promise<LimitResult> {
    const replicas = this.options.replicas as NonNullable<ResolvedRateLimiterOptions['replicas']>;
    let acknowledged = 0;
    try {
      // PTTL of one of the check's keys routes WAIT, on a cluster, to the subject's master;
      // WAIT covers the check because it ran on the same connection just before.
      const routeKey = this.keysOf(subject, this.checkSuffixes.slice(0, 1));
      ({ acknowledged } = await waitForReplicas(
        this.driver,
        [['PTTL', routeKey[0] as string]],
        replicas,
        this.options.timeout,
      ));
    } catch (error) {
      // The check was applied; only its replication is unknown: count it as not acknowledged.
      if (!(error instanceof RedisUnavailableError)) throw error;
      this.events.emit('redis-failure', {
        subject,
        reason: error.timedOut ? 'timeout' : 'unavailable',
        decidedBy: replicas.onShortfall === 'deny' ? 'replica-shortfall' : 'redis',
        error: error.message,
      });
    }
    if (acknowledged >= replicas.count || replicas.onShortfall === 'allow') {
      return this.finish(subject, cost, started, 'redis', decision, lease, undefined, acknowledged);
    }
    // Denied: the request will not run, so a concurrency slot it took is given back at once.
    await lease?.release().catch(() => {});
    const denied: Decision = {
      allowed: false,
      blockedForMs: 0,
      policies: this.policies.map((policy) => exhausted(policy, replicas.timeout)),
    };
    return this.finish(subject, cost, started, 'replica-shortfall', denied, undefined, undefined, acknowledged);
  }

  /** Like {@link limit}, but throws {@link RateLimitedError} when the request is denied. */
  async enforce(subject: string, options?: LimitCallOptions): Promise<LimitResult> {
    const result = await this.limit(subject, options);
    if (!result.allowed) throw new RateLimitedError(subject, result);
    return result;
  }

  /**
   * Reports whether a request of `cost` would be admitted now, consuming
   * nothing. When Redis fails or times out, the limiter's `failure.mode`
   * answers, as for {@link limit}: `open` reports admitted, `closed` denied,
   * `fallback` asks the in-process limiter (without consuming).
   */
  async peek(subject: string, options?: LimitCallOptions): Promise<LimitResult> {
    const cost = this.validate(subject, options);
    let reply: string;
    try {
      reply = await this.runCheck(subject, cost, '', false);
    } catch (error) {
      const { decidedBy, decision, reason } = this.decideWithoutRedis(subject, cost, '', error, false);
      return this.result(decision, decidedBy, undefined, reason);
    }
    return this.result(decodeDecision(reply, this.policies, false), 'redis');
  }

  /**
   * Gives `cost` units back to every policy (e.g. the request failed in a way
   * that should not count). Concurrency slots are given back by releasing
   * the lease instead.
   */
  async refund(subject: string, options?: LimitCallOptions): Promise<void> {
    const cost = this.validate(subject, options);
    this.deniedCache?.forget(subject);
    if (this.refundLimits === undefined) return;
    const keys = this.keysOf(subject, this.refundSuffixes);
    await this.driver.script(this.refundLimits, keys, [cost], { timeoutMs: this.options.timeout });
  }

  /** Forgets everything about the subject: counts, leases, blocks and penalties. */
  async reset(subject: string): Promise<void> {
    this.validate(subject, undefined);
    this.deniedCache?.forget(subject);
    this.fallback?.reset(subject);
    await this.driver.command('UNLINK', this.keysOf(subject, this.allSuffixes), { timeoutMs: this.options.timeout });
  }

  /**
   * Denies every request of the subject for `duration`, whatever the policies
   * say. Needs the limiter's `blocks` option (or a `penalty`).
   */
  async block(subject: string, duration: Duration): Promise<void> {
    this.validate(subject, undefined);
    const ms = parseOptions(blockCallSchema, { duration }, 'block()').duration;
    if (!this.options.blocks) {
      throw new InvalidOptionsError(
        [{ path: 'blocks', message: 'must be true to block subjects (checks then read the block key)' }],
        { context: 'RateLimiter' },
      );
    }
    await this.driver.command('SET', [this.keyspace.key(subject, 'block'), 1, 'PX', ms], {
      timeoutMs: this.options.timeout,
    });
    this.fallback?.block(subject, ms);
    this.deniedCache?.remember(subject, 1, performance.now(), ms);
  }

  /** `<namespace>:{<subject>}:<suffix>` for each suffix; the subject is escaped once. */
  private keysOf(subject: string, suffixes: readonly string[]): string[] {
    const prefix = `${this.keyspace.namespace}:${this.keyspace.tag(subject)}:`;
    return suffixes.map((suffix) => prefix + suffix);
  }

  private runCheck(subject: string, cost: number, requestId: string, consume: boolean): Promise<string> {
    // Trailing arguments are sent only when needed: ioredis spends time on each one.
    const args = this.needsRequestId ? [cost, consume ? 1 : 0, requestId] : consume ? [cost] : [cost, 0];
    return this.driver.script(this.checkLimits, this.keysOf(subject, this.checkSuffixes), args, {
      timeoutMs: this.options.timeout,
    });
  }

  /** Validates the call before anything is sent; returns the cost. */
  private validate(subject: string, options: LimitCallOptions | undefined): number {
    if (typeof subject !== 'string' || subject.length === 0 || subject.length > 512) {
      parseOptions(subjectSchema, { subject }, 'limit()');
    }
    const cost = options === undefined ? 1 : parseOptions(limitCallSchema, options, 'limit()').cost;
    if (cost > this.maxCost) {
      const policy = this.policies.find((candidate) => policyCapacity(candidate) === this.maxCost) as Policy;
      throw new InvalidOptionsError(
        [{ path: 'cost', message: `must not exceed ${this.maxCost}, the capacity of policy "${policy.name}"` }],
        { context: 'limit()' },
      );
    }
    return cost;
  }

  private onRedisFailure(
    subject: string,
    cost: number,
    started: number,
    requestId: string,
    error: unknown,
  ): LimitResult {
    const { decidedBy, decision, lease, reason } = this.decideWithoutRedis(subject, cost, requestId, error, true);
    return this.finish(subject, cost, started, decidedBy, decision, lease, reason);
  }

  /**
   * Decides by the failure mode when Redis failed (`consume: false` for
   * peek), and reports the failure. Rethrows errors that are not Redis being
   * unavailable: misconfiguration (NOPERM, a script error) must be loud, not
   * a silent fail-open.
   */
  private decideWithoutRedis(
    subject: string,
    cost: number,
    requestId: string,
    error: unknown,
    consume: boolean,
  ): { decidedBy: DecidedBy; decision: Decision; lease?: Lease; reason: 'timeout' | 'unavailable' } {
    if (!(error instanceof RedisUnavailableError)) throw error;
    const reason = error.timedOut ? 'timeout' : 'unavailable';
    const { mode } = this.options.failure;
    let decidedBy: DecidedBy;
    let decision: Decision;
    let lease: Lease | undefined;
    if (mode === 'fallback' && this.fallback) {
      decidedBy = 'fallback';
      const id = requestId || randomUUID();
      decision = this.fallback.check(subject, cost, { consume, consumeOnDeny: this.options.consumeOnDeny, id });
      if (consume && decision.allowed && this.leaseSuffixes.length > 0) lease = this.memoryLease(subject, id, cost);
    } else {
      decidedBy = mode === 'open' ? 'fail-open' : 'fail-closed';
      const allowed = mode === 'open';
      decision = {
        allowed,
        blockedForMs: 0,
        policies: this.policies.map((policy) =>
          allowed ? unknownState(policy) : exhausted(policy, failClosedRetryMs),
        ),
      };
    }
    this.events.emit('redis-failure', { subject, reason, decidedBy, error: error.message });
    return lease ? { decidedBy, decision, lease, reason } : { decidedBy, decision, reason };
  }

  private finish(
    subject: string,
    cost: number,
    started: number,
    decidedBy: DecidedBy,
    decision: Decision,
    lease?: Lease,
    redisFailure?: 'timeout' | 'unavailable',
    replicas?: number,
  ): LimitResult {
    const result = this.result(decision, decidedBy, lease, redisFailure, replicas);
    if (decision.allowed) {
      if (this.events.listens('allowed')) {
        this.events.emit('allowed', { subject, cost, decidedBy, durationMs: performance.now() - started });
      }
    } else if (this.events.listens('denied')) {
      this.events.emit('denied', {
        subject,
        cost,
        decidedBy,
        policies: decision.alreadyBlocked
          ? ''
          : decision.policies
              .filter((policy) => !policy.allowed)
              .map((policy) => policy.name)
              .join(','),
        retryAfterMs: result.retryAfterMs,
        dryRun: this.options.dryRun,
        durationMs: performance.now() - started,
      });
    }
    return result;
  }

  private result(
    decision: Decision,
    decidedBy: DecidedBy,
    lease?: Lease,
    redisFailure?: 'timeout' | 'unavailable',
    replicas?: number,
  ): LimitResult {
    const policies = decision.policies;
    const retryAfterMs = decision.allowed ? 0 : retryAfter(decision);
    const binding = bindingPolicy(policies, decision.allowed);
    const result: { -readonly [Field in keyof LimitResult]: LimitResult[Field] } = {
      allowed: decision.allowed || this.options.dryRun,
      wouldAllow: decision.allowed,
      policy: binding?.name ?? '',
      limit: binding?.limit ?? 0,
      remaining: binding?.remaining ?? 0,
      resetAt: Date.now() + Math.max(binding?.resetAfterMs ?? 0, decision.blockedForMs),
      retryAfterMs,
      blockedForMs: decision.blockedForMs,
      policies,
      decidedBy,
    };
    // Set only when present (no spread of temporary objects on the hot path).
    if (redisFailure) result.redisFailure = redisFailure;
    if (lease) result.lease = lease;
    if (replicas !== undefined) result.replicas = replicas;
    return result;
  }

  private redisLease(subject: string, id: string, cost: number): Lease {
    const keys = this.keysOf(subject, this.leaseSuffixes);
    let released: Promise<void> | undefined;
    return {
      id,
      release: () => {
        released ??= this.driver
          .script(releaseLeases, keys, [id, cost], { timeoutMs: this.options.timeout })
          .then(() => undefined);
        return released;
      },
    };
  }

  private memoryLease(subject: string, id: string, cost: number): Lease {
    return {
      id,
      release: async () => {
        this.fallback?.release(subject, id, cost);
      },
    };
  }
}

/** The policy whose numbers the headers should show. */
function bindingPolicy(policies: readonly PolicyResult[], allowed: boolean): PolicyResult | undefined {
  let binding: PolicyResult | undefined;
  for (const policy of policies) {
    if (!binding) {
      binding = policy;
    } else if (!allowed) {
      // Denied: the policy that makes the client wait longest.
      if (!policy.allowed && (binding.allowed || policy.retryAfterMs > binding.retryAfterMs)) binding = policy;
    } else if (policy.remaining < binding.remaining) {
      // Admitted: the policy closest to its limit.
      binding = policy;
    }
  }
  return binding;
}

function retryAfter(decision: Decision): number {
  let retry = decision.blockedForMs;
  for (const policy of decision.policies)
    if (!policy.allowed && policy.retryAfterMs > retry) retry = policy.retryAfterMs;
  return retry;
}

function exhausted(policy: Policy, retryAfterMs: number): PolicyResult {
  return {
    name: policy.name,
    algorithm: policy.algorithm,
    allowed: false,
    limit: policyCapacity(policy),
    remaining: 0,
    resetAfterMs: retryAfterMs,
    retryAfterMs,
  };
}

/** Fail-open admits without knowing the state: report the nominal limit and nothing more. */
function unknownState(policy: Policy): PolicyResult {
  const limit = policyCapacity(policy);
  return {
    name: policy.name,
    algorithm: policy.algorithm,
    allowed: true,
    limit,
    remaining: limit,
    resetAfterMs: 0,
    retryAfterMs: 0,
  };
}
