/** Order statistics of a set of samples (milliseconds, bytes, or a unitless ratio). */
export interface Summary {
  n: number;
  min: number;
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank quantile of an ascending array. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

export function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * Runs the contenders in turn, round after round, after `warmup` untimed rounds; the order
 * rotates every round so neither side always runs first (or right after a GC of the other).
 * Each contender returns the samples of one round; they are kept per round so ratios can be
 * taken between samples measured side by side.
 */
export async function alternate<K extends string>(
  contenders: Record<K, () => Promise<number[]> | number[]>,
  options: { rounds: number; warmup: number },
): Promise<Record<K, number[][]>> {
  const names = Object.keys(contenders) as K[];
  const rounds = Object.fromEntries(names.map((name) => [name, [] as number[][]])) as Record<K, number[][]>;
  for (let round = -options.warmup; round < options.rounds; round++) {
    const shift = ((round % names.length) + names.length) % names.length;
    const order = [...names.slice(shift), ...names.slice(0, shift)];
    for (const name of order) {
      const samples = await contenders[name]();
      if (round >= 0) rounds[name].push(samples);
    }
  }
  return rounds;
}

/** Per-round ratios of a statistic of `a` over the same statistic of `b`. */
export function roundRatios(a: readonly number[][], b: readonly number[][], stat: (s: Summary) => number): number[] {
  return a.map((samples, i) => stat(summarize(samples)) / stat(summarize(b[i]!)));
}

/** Per-round values of a statistic. */
export function perRound(rounds: readonly number[][], stat: (s: Summary) => number): number[] {
  return rounds.map((samples) => stat(summarize(samples)));
}
