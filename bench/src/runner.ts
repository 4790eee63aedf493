/** How each variant is driven. */
export interface LoopOptions {
  /** Measured operations per variant per round. */
  readonly ops: number;
  /** Operations run first and not measured (JIT, connection and script caches). */
  readonly warmup: number;
  /** Callers in flight: each starts its next operation as soon as its last one settled. */
  readonly concurrency: number;
  readonly rounds: number;
}

/** One measured run of one variant. */
export interface Timing {
  readonly ops: number;
  readonly seconds: number;
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

type Operation = (i: number) => Promise<unknown>;

/**
 * Runs operations `first … first + count - 1` with `concurrency` callers in
 * flight (a closed loop: load never exceeds what the system answers, so the
 * latencies are not queueing artefacts of an open-loop generator).
 */
async function closedLoop(run: Operation, first: number, count: number, concurrency: number): Promise<Timing> {
  const latenciesNs = new Float64Array(count);
  let next = 0;
  const caller = async () => {
    while (next < count) {
      const index = next++;
      const started = process.hrtime.bigint();
      await run(first + index);
      latenciesNs[index] = Number(process.hrtime.bigint() - started);
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, caller));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latenciesNs.sort();
  return {
    ops: count,
    seconds,
    opsPerSec: count / seconds,
    p50Ms: percentile(latenciesNs, 0.5) / 1e6,
    p99Ms: percentile(latenciesNs, 0.99) / 1e6,
  };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(fraction * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number;
}

/** Warms a variant up, then measures it; `around` wraps only the measured part (e.g. server counters). */
export async function measure<Result extends Timing>(
  run: Operation,
  options: LoopOptions,
  around: (measured: () => Promise<Timing>) => Promise<Result>,
): Promise<Result> {
  await closedLoop(run, 0, options.warmup, options.concurrency);
  return around(() => closedLoop(run, options.warmup, options.ops, options.concurrency));
}

/** Every round of one variant, and the round quoted (the median by ops/s). */
export interface VariantRounds<Result extends { readonly opsPerSec: number }> {
  readonly name: string;
  readonly rounds: Result[];
  readonly median: Result;
}

/**
 * Runs `rounds` rounds; round r starts with variant r mod k, so no variant is
 * always first (cold server) or last (warm server, full memory). Quoting the
 * median round drops one-off stalls on a shared 2-core machine.
 */
export async function runRounds<V extends { readonly name: string }, Result extends { readonly opsPerSec: number }>(
  variants: readonly V[],
  rounds: number,
  measureOne: (variant: V) => Promise<Result>,
): Promise<VariantRounds<Result>[]> {
  const results = variants.map(() => [] as Result[]);
  for (let round = 0; round < rounds; round++) {
    for (let step = 0; step < variants.length; step++) {
      const index = (round + step) % variants.length;
      (results[index] as Result[]).push(await measureOne(variants[index] as V));
    }
  }
  return variants.map((variant, index) => {
    const own = results[index] as Result[];
    const sorted = [...own].sort((a, b) => a.opsPerSec - b.opsPerSec);
    return { name: variant.name, rounds: own, median: sorted[Math.floor((sorted.length - 1) / 2)] as Result };
  });
}

/** One timed run of a throughput variant. */
export interface ThroughputTiming {
  readonly messages: number;
  readonly seconds: number;
  /** Messages per second (named like the closed loop's figure, so rounds sort the same way). */
  readonly opsPerSec: number;
}

/**
 * Prepares a throughput variant (untimed), then times `run(messages)` inside
 * `around` (which reads server counters just around it), then cleans up
 * (untimed) whatever happened.
 */
export async function measureThroughput<Result extends ThroughputTiming>(
  variant: { prepare(messages: number): Promise<void>; run(messages: number): Promise<void>; cleanup(): Promise<void> },
  messages: number,
  around: (timed: () => Promise<ThroughputTiming>) => Promise<Result>,
): Promise<Result> {
  await variant.prepare(messages);
  try {
    return await around(async () => {
      const started = process.hrtime.bigint();
      await variant.run(messages);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      return { messages, seconds, opsPerSec: messages / seconds };
    });
  } finally {
    await variant.cleanup();
  }
}
