import { LRUCache } from 'lru-cache';
import type { Decision } from './decision.js';
import type { Policy } from './options.js';
import type { PolicyResult } from './result.js';

/**
 * The in-process limiter used when Redis fails (failure mode `fallback`). It
 * applies the same algorithms as check-limits.lua, with this process's
 * clock, to the subjects this process sees. Keep the two in step.
 */

type State = {
  count?: number;
  expiresAt?: number;
  window?: number;
  current?: number;
  previous?: number;
  entries?: number[];
  tokens?: number;
  stamp?: number;
  tat?: number;
  leases?: Map<string, number>;
};

type Evaluation = { result: Omit<PolicyResult, 'name' | 'algorithm'>; write: () => void; lease?: boolean };

const ceil = (x: number) => Math.ceil(x - 1e-9);
const clamp0 = (x: number) => (x < 0 ? 0 : x);

function evaluate(policy: Policy, state: State, now: number, cost: number, consume: boolean, id: string): Evaluation {
  switch (policy.algorithm) {
    case 'fixed-window': {
      const { limit, window } = policy;
      const live = state.expiresAt !== undefined && now < state.expiresAt;
      const count = live ? (state.count ?? 0) : 0;
      const reset =
        policy.align === 'clock'
          ? (Math.floor(now / window) + 1) * window - now
          : live
            ? (state.expiresAt as number) - now
            : window;
      const allowed = count + cost <= limit;
      return {
        result: {
          allowed,
          limit,
          remaining: clamp0(limit - count - (allowed ? cost : 0)),
          resetAfterMs: reset,
          retryAfterMs: allowed ? 0 : reset,
        },
        write: () => {
          state.count = count + cost;
          if (count === 0) state.expiresAt = now + reset;
        },
      };
    }
    case 'sliding-window': {
      const { limit, window } = policy;
      const index = Math.floor(now / window);
      let current = state.current ?? 0;
      let previous = state.previous ?? 0;
      if (state.window === undefined || (state.expiresAt ?? 0) <= now) [current, previous] = [0, 0];
      else if (state.window === index - 1) [previous, current] = [current, 0];
      else if (state.window !== index) [current, previous] = [0, 0];
      const elapsed = now - index * window;
      const used = (previous * (window - elapsed)) / window + current;
      const allowed = used + cost <= limit;
      let retry = 0;
      if (!allowed) {
        retry =
          current + cost <= limit
            ? ceil(window * (1 - (limit - current - cost) / previous)) - elapsed
            : window - elapsed + ceil(window * (1 - (limit - cost) / current));
        if (retry < 1) retry = 1;
      }
      let reset = 0;
      if (current > 0 || (allowed && consume)) reset = window - elapsed + window;
      else if (previous > 0) reset = window - elapsed;
      return {
        result: {
          allowed,
          limit,
          remaining: clamp0(Math.floor(limit - used - (allowed ? cost : 0) + 1e-9)),
          resetAfterMs: reset,
          retryAfterMs: retry,
        },
        write: () => {
          Object.assign(state, {
            window: index,
            current: current + cost,
            previous,
            expiresAt: now + window - elapsed + window,
          });
        },
      };
    }
    case 'sliding-log': {
      const { limit, window } = policy;
      const entries = (state.entries ?? []).filter((time) => time > now - window);
      state.entries = entries;
      const count = entries.length;
      const allowed = count + cost <= limit;
      const retry = allowed ? 0 : (entries[count + cost - limit - 1] as number) + window - now;
      let reset = count > 0 ? (entries[count - 1] as number) + window - now : 0;
      if (allowed && consume) reset = window;
      return {
        result: {
          allowed,
          limit,
          remaining: clamp0(limit - count - (allowed ? cost : 0)),
          resetAfterMs: reset,
          retryAfterMs: retry,
        },
        write: () => {
          for (let unit = 0; unit < cost; unit++) entries.push(now);
        },
      };
    }
    case 'token-bucket': {
      const { capacity, refillRate, interval } = policy;
      const rate = refillRate / interval;
      const tokens =
        state.tokens === undefined || state.stamp === undefined
          ? capacity
          : Math.min(capacity, state.tokens + Math.max(0, now - state.stamp) * rate);
      const allowed = tokens >= cost;
      const after = tokens - cost;
      const shown = allowed ? after : tokens;
      return {
        result: {
          allowed,
          limit: capacity,
          remaining: clamp0(Math.floor(shown + 1e-9)),
          resetAfterMs: clamp0(ceil((capacity - shown) / rate)),
          retryAfterMs: allowed ? 0 : ceil((cost - tokens) / rate),
        },
        write: () => {
          state.tokens = after;
          state.stamp = now;
        },
      };
    }
    case 'gcra': {
      const { limit, period, burst } = policy;
      const interval = period / limit;
      const tat = Math.max(state.tat ?? 0, now);
      const newTat = tat + interval * cost;
      const allowAt = newTat - burst * interval;
      const allowed = allowAt <= now;
      const shownTat = allowed ? newTat : tat;
      return {
        result: {
          allowed,
          limit: burst,
          remaining: clamp0(Math.floor((now - (shownTat - burst * interval)) / interval + 1e-9)),
          resetAfterMs: clamp0(ceil(shownTat - now)),
          retryAfterMs: allowed ? 0 : ceil(allowAt - now),
        },
        write: () => {
          state.tat = newTat;
        },
      };
    }
    case 'concurrency': {
      const { limit, leaseTtl } = policy;
      const leases = state.leases ?? new Map<string, number>();
      state.leases = leases;
      for (const [lease, expiry] of leases) if (expiry <= now) leases.delete(lease);
      const count = leases.size;
      const allowed = count + cost <= limit;
      const first = Math.min(...leases.values());
      const retry = allowed ? 0 : Number.isFinite(first) ? clamp0(first - now) : 1;
      return {
        result: {
          allowed,
          limit,
          remaining: clamp0(limit - count - (allowed ? cost : 0)),
          resetAfterMs: allowed ? leaseTtl : retry,
          retryAfterMs: retry,
        },
        write: () => {
          for (let unit = 1; unit <= cost; unit++) leases.set(`${id}:${unit}`, now + leaseTtl);
        },
        lease: true,
      };
    }
  }
}

export class MemoryLimiter {
  private readonly states: LRUCache<string, State>;
  private readonly blocks: LRUCache<string, number>;

  constructor(
    private readonly policies: readonly Policy[],
    maxSubjects: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.states = new LRUCache({ max: maxSubjects * policies.length });
    this.blocks = new LRUCache({ max: maxSubjects });
  }

  private state(subject: string, policy: Policy): State {
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
      return { allowed: false, blockedForMs: blockedUntil - now, policies: [] };
    }
    const evaluations = this.policies.map((policy) => ({
      policy,
      evaluation: evaluate(policy, this.state(subject, policy), now, cost, options.consume, options.id),
    }));
    const allowed = evaluations.every(({ evaluation }) => evaluation.result.allowed);
    if (options.consume && (allowed || options.consumeOnDeny)) {
      for (const { evaluation } of evaluations) if (allowed || !evaluation.lease) evaluation.write();
    }
    return {
      allowed,
      blockedForMs: 0,
      policies: evaluations.map(({ policy, evaluation }) => ({
        name: policy.name,
        algorithm: policy.algorithm,
        ...evaluation.result,
      })),
    };
  }

  release(subject: string, id: string, cost: number): void {
    for (const policy of this.policies) {
      if (policy.algorithm !== 'concurrency') continue;
      const leases = this.state(subject, policy).leases;
      for (let unit = 1; unit <= cost; unit++) leases?.delete(`${id}:${unit}`);
    }
  }

  block(subject: string, durationMs: number): void {
    this.blocks.set(subject, this.clock() + durationMs);
  }

  reset(subject: string): void {
    this.blocks.delete(subject);
    for (const policy of this.policies) this.states.delete(`${policy.name}\u0000${subject}`);
  }
}
