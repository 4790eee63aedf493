import { LRUCache } from 'lru-cache';
import { algorithmOf } from './algorithms/index.js';
import type { Decision } from './decision.js';
import type { Policy } from './options.js';

/**
 * The in-process limiter used when Redis fails (failure mode `fallback`). It
 * applies the same algorithms as the check-limits script, each algorithm's
 * `evaluate` beside its Lua in algorithms/<name>.ts, with this process's
 * clock, to the subjects this process sees (mirror.test.ts compares the two).
 */
export class MemoryLimiter {
  private readonly states: LRUCache<string, object>;
  private readonly blocks: LRUCache<string, number>;

  constructor(
    private readonly policies: readonly Policy[],
    maxSubjects: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.states = new LRUCache({ max: maxSubjects * policies.length });
    this.blocks = new LRUCache({ max: maxSubjects });
  }

  /** The policy's state for `subject`: each algorithm keeps its own fields in it. */
  private state(subject: string, policy: Policy): object {
    const key = `${policy.name}\u0000${subject}`;
    let state = this.states.get(key);
    if (!state) {
      state = {};
      this.states.set(key, state);
    }
    return state;
  }

  check(subject: string, cost: number, options: { consume: boolean; consumeOnDeny: boolean; id: string }): Decision {
    const now = this.clock();
    const blockedUntil = this.blocks.get(subject) ?? 0;
    if (blockedUntil > now) {
      return { allowed: false, blockedForMs: blockedUntil - now, alreadyBlocked: true, policies: [] };
    }
    const evaluations = this.policies.map((policy) => {
      const algorithm = algorithmOf(policy);
      const evaluation = algorithm.evaluate(policy, this.state(subject, policy), now, cost, options.id);
      return { policy, evaluation, lease: algorithm.lease };
    });
    const allowed = evaluations.every(({ evaluation }) => evaluation.allowed);
    // As in the check-limits script: consume from every policy or none; denied
    // requests count only with consumeOnDeny and never take leases.
    const policies = evaluations.map(({ policy, evaluation, lease }) => {
      const written = options.consume && (allowed || (options.consumeOnDeny && !lease));
      if (written) evaluation.write();
      return {
        name: policy.name,
        algorithm: policy.algorithm,
        allowed: evaluation.allowed,
        limit: evaluation.limit,
        remaining: written ? evaluation.remainingAfter : evaluation.remaining,
        resetAfterMs: written ? evaluation.resetAfter : evaluation.reset,
        retryAfterMs: evaluation.retry,
      };
    });
    return { allowed, blockedForMs: 0, policies };
  }

  release(subject: string, id: string, cost: number): void {
    for (const policy of this.policies) algorithmOf(policy).release?.(this.state(subject, policy), id, cost);
  }

  block(subject: string, durationMs: number): void {
    this.blocks.set(subject, this.clock() + durationMs);
  }

  reset(subject: string): void {
    this.blocks.delete(subject);
    for (const policy of this.policies) this.states.delete(`${policy.name}\u0000${subject}`);
  }
}
