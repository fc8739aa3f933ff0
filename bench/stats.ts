/** Nearest-rank percentile of already-sorted numbers. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

export const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** p50 / p99 / max of a sample (any order), in the shape the results files use. */
export interface LatencySummary {
  calls: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

export function summarize(sample: readonly number[]): LatencySummary {
  const sorted = [...sample].sort((a, b) => a - b);
  return { calls: sorted.length, p50_ms: round3(percentile(sorted, 50)), p99_ms: round3(percentile(sorted, 99)), max_ms: round3(sorted.at(-1) ?? NaN) };
}
