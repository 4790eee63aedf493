import type { RedisConnection } from '@redkit/core';

/** The Redis a scenario runs against: one shared client, so every variant pays the same connection costs. */
export interface Target {
  readonly topology: 'standalone' | 'cluster';
  readonly redis: RedisConnection;
}

/** One way of doing the scenario's operation (redkit, a peer library, or the raw baseline). */
export interface Variant {
  readonly name: string;
  /** Runs once per target before any round (load scripts, seed data, check replies). */
  setup?(): Promise<void>;
  /** Performs operation number `i`; the same `i` means the same input for every variant. */
  run(i: number): Promise<unknown>;
  /**
   * Running total of operations that had the scenario's {@link Scenario.counted}
   * outcome (e.g. a lock acquired); read before and after the measured part.
   */
  count?(): number;
}

/** A side-by-side comparison of variants doing the same work. */
export interface Scenario {
  /** Kebab-case id, used by `--scenario` and the docs markers. */
  readonly name: string;
  readonly title: string;
  /** One paragraph for docs/benchmarks.md: what is measured and why. */
  readonly description: string;
  /** Name of the variant the others are divided by (ratio 1.0). */
  readonly baseline: string;
  /**
   * An outcome every variant counts with `count()`, for scenarios where
   * operations may or may not achieve it (e.g. `acquired`): the report adds
   * a column with it per second and as a share of the operations.
   */
  readonly counted?: string;
  /**
   * Bound on each command of the run's client, for operations that cost Redis
   * tens of milliseconds: callers queued behind them would outlast the
   * default. A run uses the largest of its scenarios' bounds. @default 2000
   */
  readonly commandTimeoutMs?: number;
  /**
   * Report each master's share of the commands (per-master `INFO
   * commandstats` deltas), for scenarios about where load lands on a cluster.
   */
  readonly masterShare?: boolean;
  /** Variants bound to `target`; made per target because they capture its client. */
  variants(target: Target): Variant[];
}

/**
 * One way of moving a batch of messages (redkit, a peer library, or the raw
 * baseline) in a throughput scenario. Only `run` is timed.
 */
export interface ThroughputVariant {
  readonly name: string;
  /** Runs once per target before any round. */
  setup?(): Promise<void>;
  /** Before each run, untimed: e.g. fills the stream that a consume run drains. */
  prepare(messages: number): Promise<void>;
  /** Moves `messages` messages (produces them, or consumes what `prepare` left); resolves when the last one is done. */
  run(messages: number): Promise<void>;
  /** After each run, untimed: stops workers, deletes the keys. */
  cleanup(): Promise<void>;
  /** Runs once per target after every round: closes what `setup` opened. */
  teardown?(): Promise<void>;
}

/**
 * A side-by-side throughput comparison: each variant moves a fixed number of
 * messages as fast as it can (its own concurrency inside), and the report
 * gives messages/s, not per-operation latency.
 */
export interface ThroughputScenario {
  readonly kind: 'throughput';
  /** Kebab-case id, used by `--scenario` and the docs markers. */
  readonly name: string;
  readonly title: string;
  /** One paragraph for docs/benchmarks.md: what is measured and why. */
  readonly description: string;
  /** Name of the variant the others are divided by (ratio 1.0). */
  readonly baseline: string;
  /** Messages per variant and round. */
  readonly messages: number;
  /** Messages moved first, untimed, before every measured run. */
  readonly warmup: number;
  /** Messages in flight (as stated in the docs; each variant applies it its own way). */
  readonly concurrency: number;
  /** Variants bound to `target`. */
  variants(target: Target): ThroughputVariant[];
}

/**
 * A latency distribution of something that is not a call (e.g. how long
 * another process keeps serving an old value after a write): each variant
 * yields one figure per sample, and the report gives p50/p90/p99/max.
 */
export interface DistributionScenario {
  readonly kind: 'distribution';
  /** Kebab-case id, used by `--scenario` and the docs markers. */
  readonly name: string;
  readonly title: string;
  /** One paragraph for docs/benchmarks.md: what is measured and why. */
  readonly description: string;
  /** Samples per variant. */
  readonly samples: number;
  /** Variants bound to `target`. */
  variants(target: Target): DistributionVariant[];
}

/** One way of doing a distribution scenario's operation. */
export interface DistributionVariant {
  readonly name: string;
  setup?(): Promise<void>;
  /** Sample number `i`, in ms; undefined when it never happened within the variant's bound (counted as lost). */
  sample(i: number): Promise<number | undefined>;
  teardown?(): Promise<void>;
}

/** Any scenario `--scenario` can name. */
export type AnyScenario = Scenario | ThroughputScenario | DistributionScenario;
