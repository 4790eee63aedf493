import { durationSchema } from '@redkit/core';
import { z } from 'zod';

/** Policy names become part of keys and of the `RateLimit-Policy` header. */
export const policyName = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1–32 letters, digits, "_" or "-"')
  .optional();

export const positiveInt = (max = Number.MAX_SAFE_INTEGER) => z.number().int().positive().max(max);

/** A window or period: a duration of at least 1 ms. */
export const windowSchema = () => durationSchema({ min: 1 });

/**
 * The Lua one policy contributes to its limiter's check-limits script (see
 * check-limits-script.ts). The code is straight-line with the policy's
 * parameters written in as constants: no closures, result tables or argument
 * parsing per call, which roughly halves the script's own run time.
 *
 * In the snippets, `$` stands for the policy's position (so `count$` becomes
 * `count_2`) and `KEY` for its state key (`KEYS[3]`). Each snippet may read
 * `now` (Redis's clock in ms, when `needsClock`), `consume` (false when
 * peeking) and `cost`.
 */
export interface PolicyLua {
  /** Needs Redis's clock (`now`). */
  readonly needsClock: boolean;
  /** Statements that look at the state and set the local `allowed$`. */
  readonly evaluate: string;
  /** Statements that consume `cost`; run when the request counts. */
  readonly write: string;
  /** Statements that take back what `evaluate` consumed; run when the request does not count. */
  readonly undo: string;
  /** Lua expressions for the reply, as the state is before consuming. */
  readonly before: { readonly remaining: string; readonly reset: string; readonly retry: string };
  /** Lua expressions for the reply, once this request has been consumed (after `write`). */
  readonly after: { readonly remaining: string; readonly reset: string };
}

/**
 * The Lua of a refund (see refund-limits-script.ts): statements that give
 * `units` back to the policy's state at `KEY` and add 1 to `changed` when
 * they changed it. `now` is Redis's clock in ms when `needsClock`.
 */
export interface RefundLua {
  readonly needsClock: boolean;
  readonly give: string;
}

/** The in-process mirror of a policy's check-limits Lua: the state now, and after consuming this request. */
export interface MemoryEvaluation {
  allowed: boolean;
  limit: number;
  retry: number;
  remaining: number;
  reset: number;
  remainingAfter: number;
  resetAfter: number;
  write: () => void;
}

/** What a policy advertises in the RateLimit headers: its quota and the window it is earned over. */
export interface Quota {
  readonly quota: number;
  /** Seconds; undefined when the quota has no window (concurrency). */
  readonly windowSeconds: number | undefined;
}

/**
 * Everything one rate-limit algorithm needs, in one module
 * (`src/algorithms/<name>.ts`, which also exports the policy's `schema`),
 * registered in `algorithms/index.ts`: the most one request can cost, how a process's fallback
 * share scales it, its check and refund Lua, its in-process fallback and its
 * header quota. Adding an algorithm is one new module and one line there.
 */
export interface RateLimitAlgorithm<P extends { algorithm: string; name: string }, State extends object = object> {
  /** Holds leases given back by `release` (concurrency): never consumed by a denied request, never refunded. */
  readonly lease: boolean;
  /** Stores one entry per admitted unit: the check needs the request's id. */
  readonly needsRequestId: boolean;
  /** The most units one request may cost: more could never be admitted. */
  capacity(policy: P): number;
  /** The policy with every limit scaled by `share` (at least 1), for one process's fallback. */
  scale(policy: P, share: number): P;
  lua(policy: P): PolicyLua;
  /** The refund's Lua; undefined when units are given back otherwise (leases are released). */
  refund(policy: P): RefundLua | undefined;
  /**
   * The in-process fallback: evaluates the policy on `state` (the algorithm's
   * own, starting as `{}` for a new subject) with this process's clock.
   */
  evaluate(policy: P, state: State, now: number, cost: number, id: string): MemoryEvaluation;
  /** The fallback's release of the leases request `id` took (for algorithms with `lease`). */
  release?(state: State, id: string, cost: number): void;
  quota(policy: P): Quota;
}

/** Lua: `math.ceil` that does not round 2.0000000001 (float noise) up to 3. */
export const luaCeil = (expression: string) => `math.ceil(${expression} - 1e-9)`;
export const luaFloor = (expression: string) => `math.floor(${expression} + 1e-9)`;

/** Lua's spelling of a number: integers as is, others in full precision. */
export const num = (value: number) => String(value);

/** JS: the same rounding as {@link luaCeil}. */
export const ceil = (x: number) => Math.ceil(x - 1e-9);
export const clamp0 = (x: number) => Math.max(0, x);

/** Whole seconds a header window advertises: at least 1 (the field has no sub-second precision). */
export const windowSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1_000));

/** Scales a limit to a share of it, at least 1. */
export const scaled = (value: number, share: number) => Math.max(1, Math.floor(value * share));
