import { LRUCache } from 'lru-cache';
import type { Decision } from './decision.js';
import type { Policy } from './options.js';

/**
 * The in-process limiter used when Redis fails (failure mode `fallback`). It
 * applies the same algorithms as the check-limits script (policy-lua.ts), with this process's
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

/** Mirrors an evaluator of the check-limits script (policy-lua.ts): the state now, and after consuming this request. */
type Evaluation = {
  allowed: boolean;
  limit: number;
  retry: number;
  remaining: number;
  reset: number;
  remainingAfter: number;
  resetAfter: number;
  write: () => void;
  lease?: boolean;
};

const ceil = (x: number) => Math.ceil(x - 1e-9);
const clamp0 = (x: number) => Math.max(0, x);

function evaluate(policy: Policy, state: State, now: number, cost: number, id: string): Evaluation {
  switch (policy.algorithm) {
    case 'fixed-window': {
      const { limit, window } = policy;
      const live = state.expiresAt !== undefined && now < state.expiresAt;
      const count = live ? (state.count ?? 0) : 0;
      let reset: number;
      if (policy.align === 'clock') reset = (Math.floor(now / window) + 1) * window - now;
      else reset = live ? (state.expiresAt as number) - now : window;
      const allowed = count + cost <= limit;
      return {
        allowed,
        limit,
        retry: allowed ? 0 : reset,
        remaining: clamp0(limit - count),
        reset: count > 0 ? reset : 0,
        remainingAfter: clamp0(limit - count - cost),
        resetAfter: reset,
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
      if (current > 0) reset = window - elapsed + window;
      else if (previous > 0) reset = window - elapsed;
      const remaining = clamp0(Math.floor(limit - used + 1e-9));
      return {
        allowed,
        limit,
        retry,
        remaining,
        reset,
        remainingAfter: clamp0(remaining - cost),
        resetAfter: window - elapsed + window,
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
      return {
        allowed,
        limit,
        retry: allowed ? 0 : (entries[count + cost - limit - 1] as number) + window - now,
        remaining: clamp0(limit - count),
        reset: count > 0 ? (entries[count - 1] as number) + window - now : 0,
        remainingAfter: clamp0(limit - count - cost),
        resetAfter: window,
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
      return {
        allowed,
        limit: capacity,
        retry: allowed ? 0 : ceil((cost - tokens) / rate),
        remaining: clamp0(Math.floor(tokens + 1e-9)),
        reset: clamp0(ceil((capacity - tokens) / rate)),
        remainingAfter: clamp0(Math.floor(after + 1e-9)),
        resetAfter: clamp0(ceil((capacity - after) / rate)),
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
      const remainingAt = (at: number) => clamp0(Math.floor((now - (at - burst * interval)) / interval + 1e-9));
      return {
        allowed,
        limit: burst,
        retry: allowed ? 0 : ceil(allowAt - now),
        remaining: remainingAt(tat),
        reset: clamp0(ceil(tat - now)),
        remainingAfter: remainingAt(newTat),
        resetAfter: clamp0(ceil(newTat - now)),
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
      const expiries = [...leases.values()];
      const first = expiries.length > 0 ? Math.min(...expiries) : undefined;
      const last = expiries.length > 0 ? Math.max(...expiries) : undefined;
      const reset = last === undefined ? 0 : clamp0(last - now);
      return {
        allowed,
        limit,
        retry: allowed ? 0 : first === undefined ? 1 : clamp0(first - now),
        remaining: clamp0(limit - count),
        reset,
        remainingAfter: clamp0(limit - count - cost),
        resetAfter: Math.max(reset, leaseTtl),
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
      return { allowed: false, blockedForMs: blockedUntil - now, alreadyBlocked: true, policies: [] };
    }
    const evaluations = this.policies.map((policy) => ({
      policy,
      evaluation: evaluate(policy, this.state(subject, policy), now, cost, options.id),
    }));
    const allowed = evaluations.every(({ evaluation }) => evaluation.allowed);
    // As in the check-limits script (policy-lua.ts): consume from every policy or none; denied
    // requests count only with consumeOnDeny and never take leases.
    const policies = evaluations.map(({ policy, evaluation }) => {
      const written = options.consume && (allowed || (options.consumeOnDeny && !evaluation.lease));
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
