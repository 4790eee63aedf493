import type { Policy } from './options.js';

/** Algorithm codes and parameter order used by refund-limits.lua. */
export type EncodedPolicy = readonly [code: number, p1: number, p2: number, p3: number];

export function encodePolicy(policy: Policy): EncodedPolicy {
  switch (policy.algorithm) {
    case 'fixed-window':
      return [policy.align === 'clock' ? 1 : 2, policy.limit, policy.window, 0];
    case 'sliding-window':
      return [3, policy.limit, policy.window, 0];
    case 'sliding-log':
      return [4, policy.limit, policy.window, 0];
    case 'token-bucket':
      return [5, policy.capacity, policy.refillRate, policy.interval];
    case 'gcra':
      return [6, policy.limit, policy.period, policy.burst];
    case 'concurrency':
      return [7, policy.limit, policy.leaseTtl, 0];
  }
}

/** The policy with every limit scaled by `share` (at least 1), for one process's fallback. */
export function scalePolicy(policy: Policy, share: number): Policy {
  if (share === 1) return policy;
  const scale = (value: number) => Math.max(1, Math.floor(value * share));
  switch (policy.algorithm) {
    case 'token-bucket':
      return { ...policy, capacity: scale(policy.capacity), refillRate: scale(policy.refillRate) };
    case 'gcra':
      return { ...policy, limit: scale(policy.limit), burst: scale(policy.burst) };
    default:
      return { ...policy, limit: scale(policy.limit) };
  }
}
